"""The engine compiled with mypyc (tools/build_engine.py) never hides its sources: a changed
source sends every compiled module back to its source (plans/__init__.py), and the doctests of a
compiled module are read from its source (the root conftest.py)."""

from __future__ import annotations

import doctest
import importlib.util
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import plans
from plans.money import Rounding
from plans.policy import DiscountBand, Policy

ROOT = Path(__file__).resolve().parents[2]

SERVED = "import plans, plans.money, schemas.wire; print(plans.money.__file__, plans.compiled())"


def _copy(to: Path) -> None:
    """The engine, its wire format and their extensions, as built, in ``to``."""
    for package in ("plans", "schemas"):
        shutil.copytree(ROOT / package, to / package, ignore=shutil.ignore_patterns("__pycache__"))
    for runtime in ROOT.glob("*__mypyc*.so"):
        shutil.copy2(runtime, to)


def _served(where: Path) -> tuple[str, str, str]:
    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", SERVED],
        cwd=where,
        capture_output=True,
        text=True,
        check=True,
    )
    file, _, modules = done.stdout.strip().partition(" ")
    return file, modules, done.stderr


@pytest.mark.skipif(not plans.compiled(), reason="the engine runs as plain Python here")
def test_a_changed_source_is_served_instead_of_its_binary(tmp_path: Path) -> None:
    _copy(tmp_path)
    file, modules, warned = _served(tmp_path)
    assert not file.endswith(".py") and "plans.money" in modules and warned == ""

    amortisation = tmp_path / "plans" / "amortisation.py"
    amortisation.write_text(amortisation.read_text() + "\n# edited after the build\n")
    file, modules, warned = _served(tmp_path)
    # plans.money did not change, but it was compiled with plans.amortisation: all or none
    assert file.endswith("plans/money.py") and modules == "()"
    assert "plans/amortisation.py" in warned and warned.count("RuntimeWarning") == 1


@pytest.mark.skipif(not plans.compiled(), reason="the engine runs as plain Python here")
def test_a_missing_binary_sends_all_to_their_sources(tmp_path: Path) -> None:
    # the others would call the compiled code of plans.amortisation (in the shared runtime)
    # while Python imported its source: two PlanDates classes
    _copy(tmp_path)
    for extension in (tmp_path / "plans").glob("amortisation.*.so"):
        extension.unlink()
    file, modules, warned = _served(tmp_path)
    assert file.endswith("plans/money.py") and modules == "()"
    assert "plans/amortisation.py" in warned


def test_a_compiled_module_keeps_its_doctests(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest collects the doctests the source has, whether an extension sits beside it."""
    path = ROOT / "plans" / "money.py"
    spec = importlib.util.spec_from_file_location("plans.money", path)
    assert spec is not None and spec.loader is not None
    source = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(source)
    monkeypatch.setitem(sys.modules, "plans.money", source)  # doctest looks its objects up there
    expected = sum(1 for test in doctest.DocTestFinder().find(source) if test.examples)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", path],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert expected > 0 and f"{expected} tests collected" in done.stdout, done.stdout


def test_served_classes_keep_their_docstrings_and_pickle() -> None:
    """Compiled or not: an enum's docstring describes it in the contract, and Dask pickles a
    policy (mypyc drops the one and cannot unpickle the other; plans/__init__.py mends both)."""
    policy = Policy(discount_bands=(DiscountBand(90, 2_000),))
    assert Rounding.__doc__ is not None and Rounding.__doc__.startswith("How an exact amount")
    assert pickle.loads(pickle.dumps(policy)) == policy
