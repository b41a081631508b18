"""Collection rules for the whole repository (``make test`` collects ``app/`` for doctests)."""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from _pytest.doctest import DoctestItem, DoctestModule

# Alembic runs env.py and the revision scripts inside its own context; imported bare for
# doctest collection, env.py fails and the revisions have nothing to test.
collect_ignore = ["app/migrations"]


def _compiled(path: Path) -> bool:
    """Whether ``path`` has an extension module beside it (built by tools/build_engine.py)."""
    return any(
        path.with_name(path.stem + suffix).exists()
        for suffix in importlib.machinery.EXTENSION_SUFFIXES
    )


class SourceDoctestModule(DoctestModule):
    """The doctests of a module compiled with mypyc, read from its source, run on what it serves.

    Imported by path, the module is its extension: pytest then finds a ``__file__`` other than
    the path it collects ("import file mismatch"), and compiled functions keep no docstrings.
    So the examples are found in the source, executed privately (in ``sys.modules`` only while
    they are found), and each runs in the namespace of the module as served, compiled or not.
    """

    def _getobj(self) -> ModuleType:
        spec = importlib.util.spec_from_file_location(self._module_name(), self.path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def _module_name(self) -> str:
        return ".".join(self.path.relative_to(self.config.rootpath).with_suffix("").parts)

    def collect(self) -> Iterable[DoctestItem]:
        name = self._module_name()
        served = importlib.import_module(name)
        # doctest keeps an object's examples only if sys.modules names its module as the one
        # searched: the source module stands in for the served one while they are found
        sys.modules[name] = self.obj
        try:
            items = list(super().collect())
        finally:
            sys.modules[name] = served
        for item in items:
            assert item.dtest is not None
            item.dtest.globs = dict(vars(served))
        return items


@pytest.hookimpl(wrapper=True)
def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Any:
    collected = yield
    if file_path.suffix != ".py" or not _compiled(file_path):
        return collected
    # a compiled module holds no tests but its doctests; named on the command line, it is also
    # collected as a test module, which would import the extension
    doctests = any(isinstance(node, DoctestModule) for node in collected)
    kept = [node for node in collected if not isinstance(node, pytest.Module)]
    return [*kept, SourceDoctestModule.from_parent(parent, path=file_path)] if doctests else kept
