"""The repayment engine: plain Python, served compiled with mypyc where ``make`` could build it.

``tools/build_engine.py`` compiles the hot modules into extension modules beside their sources
and records each source's SHA-256 in ``plans/_compiled.sha256``. Python imports an extension
module before a ``.py`` of the same name, so an edited source would be hidden by the binary
built from its older text; this runs before any engine module is imported and checks the
record. While every source is the one compiled, the extensions are served (:func:`compiled`
names them). If any differs, or an extension and the record disagree, every compiled module is
imported from its source for this process, with one warning; ``make`` builds them again.

All or none, because compiled modules are compiled together: one reads another's classes by
their compiled layout and calls its functions natively, so an extension next to a changed
source module of the same build could misread it. Hashes, not modification times: a checkout,
a stash or a copy can give a source a time older than its binary's, or a newer one with the
same text; the hash says exactly whether the binary was built from this text, and reading and
hashing the few hundred kilobytes costs well under a millisecond per process.
"""

from __future__ import annotations

import ast
import copyreg
import dataclasses
import hashlib
import importlib.machinery
import importlib.util
import sys
import warnings
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any

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


class _Compiled:
    """A finder first on ``sys.meta_path``: the named modules from their extensions, mended.

    Two things differ between a module compiled with mypyc and its source, and both are put
    back once it is imported. Its enums and named tuples carry "mypyc filler docstring"
    (mypyc drops class docstrings): the contract's schema describes an enum by its docstring,
    so it is read back from the source. And its frozen dataclasses, native classes without a
    ``__dict__``, cannot be unpickled (pickle would set each field on a frozen instance): they
    are pickled as a call of the class with their fields, as Dask sends a policy to a worker.
    A compiled module imports the others of its build natively, past this finder, so after
    each import through it every compiled module loaded by then is mended (again: one still
    being imported then is mended whole when the import that started it ends).
    """

    def __init__(self, sources: dict[str, Path]) -> None:
        self.sources = sources

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name not in self.sources:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and isinstance(spec.loader, importlib.machinery.ExtensionFileLoader):
            spec.loader = _Mending(spec.loader, self)
        return spec

    def mend(self) -> None:
        for name, source in self.sources.items():
            module = sys.modules.get(name)
            if module is None:
                continue
            classes = [
                value
                for value in vars(module).values()
                if isinstance(value, type) and value.__module__ == name
            ]
            filler = [cls for cls in classes if cls.__doc__ == "mypyc filler docstring"]
            if filler:
                docs = {
                    node.name: ast.get_docstring(node, clean=False)
                    for node in ast.walk(ast.parse(source.read_bytes()))
                    if isinstance(node, ast.ClassDef)
                }
                for cls in filler:
                    cls.__doc__ = docs.get(cls.__name__)
            for cls in classes:
                if dataclasses.is_dataclass(cls):
                    copyreg.pickle(cls, _pickled)


class _Mending(importlib.machinery.ExtensionFileLoader):
    def __init__(self, loader: importlib.machinery.ExtensionFileLoader, finder: _Compiled) -> None:
        super().__init__(loader.name, loader.path)
        self.finder = finder

    def exec_module(self, module: ModuleType) -> None:
        super().exec_module(module)
        self.finder.mend()


def _pickled(instance: Any) -> tuple[Any, tuple[type, dict[str, Any]]]:
    fields = {f.name: getattr(instance, f.name) for f in dataclasses.fields(instance) if f.init}
    return _made, (type(instance), fields)


def _made(cls: type, fields: dict[str, Any]) -> Any:
    return cls(**fields)


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
    # an extension without its record, a record without its extension (whose compiled code
    # the others would still call, in the shared runtime), a source not the one compiled
    changed = sorted(
        source
        for source in built | recorded.keys()
        if source not in built
        or not (ROOT / source).exists()
        or recorded.get(source) != hashlib.sha256((ROOT / source).read_bytes()).hexdigest()
    )
    names = {source.removesuffix(".py").replace("/", "."): ROOT / source for source in built}
    if not changed:
        sys.meta_path.insert(0, _Compiled(names))
        return tuple(sorted(names))
    sys.meta_path.insert(0, _FromSource(names))
    warnings.warn(
        f"{', '.join(changed[:3])}{', ...' if len(changed) > 3 else ''}: not as compiled"
        " (changed since, or no extension): the engine runs from its sources (`make venv`"
        " compiles it again)",
        RuntimeWarning,
        stacklevel=2,
    )
    return ()


_COMPILED = _serve()


def compiled() -> tuple[str, ...]:
    """The engine modules this process runs compiled with mypyc; none if plain Python."""
    return _COMPILED
