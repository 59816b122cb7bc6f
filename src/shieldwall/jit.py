"""numba's compile cache, keyed so that no process ever runs stale compiled code; the kernel's
debug build.

numba checks a cached function against its own source file only. The raid kernel inlines the
intercept solver and the path helpers from other modules, so after an edit of one of those a
plain ``cache=True`` goes on loading the old machine code. ``cached_njit`` instead keeps every
cache of this package in a folder named by a hash of all the sources that numba compiles (the
engine and the WTA kernels), numba's and Python's versions, and the debug switches below: an
edit anywhere, or another build, looks in a folder of its own, whatever command runs it (the CLI,
the web app, a notebook, the tests). Old folders are removed after a day.

Debug build: ``SHIELDWALL_KERNEL_CHECKS=1`` makes ``KERNEL_CHECKS`` true, a module-level constant
that numba folds into the code, so the kernel asserts every buffer bound and its conservation
identities (and costs nothing when off). Run it with ``NUMBA_BOUNDSCHECK=1`` as well to check
every array index; ``NUMBA_DISABLE_JIT=1`` runs the kernel as plain Python, to step through it in
a debugger (slow: minutes for a big raid).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

KERNEL_CHECKS: bool = os.environ.get("SHIELDWALL_KERNEL_CHECKS", "") == "1"

PACKAGE = Path(__file__).resolve().parent
COMPILED_SOURCES = ("engine", "wta")  # every module with numba functions, and what they inline
STALE_AFTER_S = 86_400.0


@lru_cache(maxsize=1)
def cache_key() -> str:
    """A hash of what the compiled code depends on."""
    import numba

    digest = hashlib.sha256()
    for folder in COMPILED_SOURCES:
        for path in sorted((PACKAGE / folder).glob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    digest.update(Path(__file__).read_bytes())
    flags = (numba.__version__, sys.version, KERNEL_CHECKS, os.environ.get("NUMBA_BOUNDSCHECK", ""))
    digest.update(repr(flags).encode())
    return digest.hexdigest()[:16]


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


@lru_cache(maxsize=1)
def cache_dir() -> Path:
    """This build's cache folder: under NUMBA_CACHE_DIR if the user set one, else beside the
    package (as numba would), else in the user's cache folder."""
    user = os.environ.get("NUMBA_CACHE_DIR")
    candidates = [Path(user) / "shieldwall"] if user else []
    candidates += [PACKAGE / "__pycache__" / "numba",
                   Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "shieldwall" / "numba"]
    base = next((c for c in candidates if _writable(c)), candidates[-1])
    here = base / cache_key()
    if not here.exists():
        for old in base.iterdir() if base.exists() else ():
            try:
                if old.is_dir() and time.time() - old.stat().st_mtime > STALE_AFTER_S:
                    shutil.rmtree(old, ignore_errors=True)
            except OSError:
                pass
    here.mkdir(parents=True, exist_ok=True)
    return here


def cached_njit(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """``numba.njit(cache=True, **options)`` with its cache in ``cache_dir()``. numba reads its
    cache folder when a function is decorated, so the setting is scoped to our own functions."""

    def decorate(func: Callable[..., Any]) -> Any:
        from numba import njit
        from numba.core import config

        before = config.CACHE_DIR
        config.CACHE_DIR = str(cache_dir())
        try:
            return njit(cache=True, **options)(func)
        finally:
            config.CACHE_DIR = before

    return decorate
