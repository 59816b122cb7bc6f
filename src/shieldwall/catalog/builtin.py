"""The built-in catalog, shipped as ``builtin.yaml`` beside this module."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from shieldwall.catalog.model import Catalog

BUILTIN_PATH = Path(__file__).with_name("builtin.yaml")


@lru_cache(maxsize=1)
def builtin_catalog() -> Catalog:
    """Parsed once per process; the file is part of the package, so a failure here is a bug.
    With libyaml's parser where PyYAML has it (the same safe constructors, the same data:
    tests/test_catalog.py; 7 ms instead of 40 in every command that loads a scenario)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with BUILTIN_PATH.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=loader) or {}  # noqa: S506 - a safe loader, C or Python
    return Catalog.model_validate(data)
