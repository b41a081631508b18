"""Compile the engine's hot modules with mypyc, in place: ``python tools/build_engine.py``.

The sources stay plain Python and stay the truth: each compiled module is an extension module
(``plans/money.cpython-311-x86_64-linux-gnu.so``) beside its ``.py``, all of them sharing one
runtime (``repay_engine__mypyc.*.so`` at the root), and ``plans/_compiled.sha256`` records
the SHA-256 of every source compiled (the format of ``sha256sum``). ``plans/__init__.py``
reads that record before any engine module is imported and serves the sources instead while
any of them differs from its record, so an edit is never hidden by an older binary.

``make`` runs this after installing and again whenever one of these sources changes. Without
a C compiler it says so in one line and leaves the engine plain Python (exit status 0).
``--sources`` prints the sources compiled, for the Makefile's prerequisites.

Only modules typed throughout and handed plain Python values are compiled: a compiled function
checks its arguments' types at run time, so the modules that take numpy or pandas values
(``plans.portfolio``, ``plans.simulation``, ``plans.reminders``) stay plain Python.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import sys
import sysconfig
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "plans" / "_compiled.sha256"

# The modules one negotiation and one counter-offer run through (engine and wire format), but
# plans.counter: mypyc does not compile a generic dataclass (its Choice, Verdict and Plans).
SOURCES = [
    "plans/affordability.py",
    "plans/allocation.py",
    "plans/amortisation.py",
    "plans/annual_rates.py",
    "plans/annuity.py",
    "plans/calendar.py",
    "plans/compare.py",
    "plans/consolidated_counter.py",
    "plans/consolidation.py",
    "plans/daycount.py",
    "plans/debt.py",
    "plans/deferral.py",
    "plans/errors.py",
    "plans/instalment.py",
    "plans/money.py",
    "plans/offer.py",
    "plans/policy.py",
    "plans/rates.py",
    "plans/schedule.py",
    "plans/settlement.py",
    "plans/unit_periods.py",
    "schemas/wire.py",
]


def artefacts() -> list[Path]:
    """What a build leaves in the tree (the C sources and objects stay in ``build/``)."""
    found = [*ROOT.glob("*__mypyc*.so"), *ROOT.glob("plans/*.so"), *ROOT.glob("schemas/*.so")]
    return [*found, RECORD] if RECORD.exists() else found


def compiler() -> str | None:
    """The C compiler setuptools would call (``$CC``, else Python's own), if it is installed."""
    command = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    return shutil.which(command[0]) if command else None


def build() -> None:
    if compiler() is None:
        print("engine: no C compiler, so the engine runs as plain Python (not compiled)")
        return
    from mypyc.build import mypycify
    from setuptools import setup

    for path in artefacts():
        path.unlink()
    # hashed before compiling: a source edited during the build reads as changed afterwards
    digests = {
        source: hashlib.sha256((ROOT / source).read_bytes()).hexdigest() for source in SOURCES
    }
    started = time.monotonic()
    setup(
        name="repay-engine",
        packages=[],
        py_modules=[],
        ext_modules=mypycify(SOURCES, opt_level="3", group_name="repay_engine"),
        script_args=["--quiet", "build_ext", "--inplace"],
    )
    RECORD.write_text("".join(f"{digest}  {source}\n" for source, digest in digests.items()))
    took = time.monotonic() - started
    print(f"engine: compiled with mypyc ({len(SOURCES)} modules) in {took:.0f} s")


if __name__ == "__main__":
    if sys.argv[1:] == ["--sources"]:
        print(" ".join(SOURCES))
    elif sys.argv[1:] == ["--clean"]:
        for path in artefacts():
            path.unlink()
    else:
        os.chdir(ROOT)
        build()
