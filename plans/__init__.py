"""The repayment engine: plain Python, served compiled with mypyc where ``make`` could build it.

``tools/build_engine.py`` compiles the hot modules into extension modules beside their sources
and records each source's SHA-256 in ``plans/_compiled.sha256``. Python imports an extension
module before a ``.py`` of the same name, so an edited source would be hidden by the binary
built from its older text; this runs before any engine module is imported and checks the
record. While every source is the one compiled, the extensions are served (:func:`compiled`
names them). If any differs, or an extension has no record, every compiled module is imported
from its source for this process, with one warning; ``make`` builds them again.

All or none, because compiled modules are compiled together: one reads another's classes by
their compiled layout and calls its functions natively, so an extension next to a changed
source module of the same build could misread it. Hashes, not modification times: a checkout,
a stash or a copy can give a source a time older than its binary's, or a newer one with the
same text; the hash says exactly whether the binary was built from this text, and reading and
hashing the few hundred kilobytes costs well under a millisecond per process.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import sys
import warnings
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "plans" / "_compiled.sha256"


class _FromSource:
    """A finder first on ``sys.meta_path``: the named modules from their ``.py`` files."""

    def __init__(self, sources: dict[str, Path]) -> None:
        self.sources = sources

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        source = self.sources.get(name)
        return None if source is None else importlib.util.spec_from_file_location(name, source)


def _extensions() -> set[str]:
    """The sources (``plans/money.py``) that have an extension module beside them."""
    found = set()
    for package in ("plans", "schemas"):
        for path in (ROOT / package).iterdir():
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                if path.name.endswith(suffix):
                    found.add(f"{package}/{path.name.removesuffix(suffix)}.py")
                    break
    return found


def _serve() -> tuple[str, ...]:
    """The compiled modules to serve, after sending the rest to their sources."""
    built = _extensions()
    if not built:
        return ()
    recorded: dict[str, str] = {}
    if RECORD.exists():
        for line in RECORD.read_text().splitlines():
            digest, _, source = line.partition("  ")
            recorded[source] = digest
    changed = sorted(
        source
        for source in built | recorded.keys()
        if not (ROOT / source).exists()
        or recorded.get(source) != hashlib.sha256((ROOT / source).read_bytes()).hexdigest()
    )
    names = {source.removesuffix(".py").replace("/", "."): ROOT / source for source in built}
    if not changed:
        return tuple(sorted(names))
    sys.meta_path.insert(0, _FromSource(names))
    warnings.warn(
        f"{', '.join(changed[:3])}{', ...' if len(changed) > 3 else ''} changed since the engine"
        " was compiled: running the engine from its sources (`make venv` compiles it again)",
        RuntimeWarning,
        stacklevel=2,
    )
    return ()


_COMPILED = _serve()


def compiled() -> tuple[str, ...]:
    """The engine modules this process runs compiled with mypyc; none if plain Python."""
    return _COMPILED
