"""The built-in catalog, shipped as ``builtin.yaml`` beside this module."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from shieldwall.catalog.model import Catalog

BUILTIN_PATH = Path(__file__).with_name("builtin.yaml")


@lru_cache(maxsize=1)
def builtin_catalog() -> Catalog:
    """Parsed once per process; the file is part of the package, so a failure here is a bug."""
    with BUILTIN_PATH.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    return Catalog.model_validate(data)
