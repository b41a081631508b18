"""``schemas/examples/``: each file is an answer of the service, and still the one it gives.

What this pins:

* every file is the answer of one operation (``tests.examples_writer.ROUTES``), is loaded
  by ``schemas.examples`` under its name, and validates against that operation's response
  model, found through ``create_app()``'s routes; the CSV and the calendar are the saved
  offer's schedule, line for line;
* ``python -m tests.examples_writer --out <tmp>`` (``make examples``: the contract's own
  request examples sent to a fresh service, volatile values pinned as its docstring says)
  writes the committed files byte for byte. A change of the service that changes an answer
  fails here until ``make examples`` is rerun and its diff reviewed, together with
  ``tests/golden/openapi.json`` (which embeds the examples: ``REPAY_UPDATE_GOLDEN=1``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import icalendar
import pytest
from pydantic import ValidationError

from app.main import create_app
from schemas import examples
from schemas.common import Model
from tests.examples_writer import EXAMPLES, ROOT, ROUTES, render

# The committed policy example predates these fields of PolicyBody (the contact rules, the
# parties' limit, the reminder days), which the service now answers with. Regenerating it
# changes tests/golden/openapi.json, which the move of the examples to data had to leave byte
# for byte as it was: until a reviewed `make examples` does, the answer may differ from the
# file by exactly these fields of its body, and nothing else.
NOT_YET_IN = {
    "policy_version.json": (
        "max_parties",
        "reminder_days_before",
        "contact",
        "messages",
        "allocation_rule",
        "affordable_share_bps",
        "spending_guidelines",
    )
}


def constant(name: str) -> str:
    """The name ``schemas.examples`` gives a file's answer: ``link.ics`` is ``LINK_ICS``."""
    return name.removesuffix(".json").replace(".", "_").upper()


def test_every_file_is_an_answer_loaded_under_its_name() -> None:
    on_disk = {p.name for p in EXAMPLES.iterdir() if p.suffix in {".json", ".csv", ".ics"}}
    assert on_disk == set(ROUTES)
    loaded = {name for name in vars(examples) if name.isupper() and name != "REF"}
    assert loaded == {constant(name) for name in ROUTES}
    for name in ROUTES:
        assert getattr(examples, constant(name)) is examples.load(name)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app().openapi()


def _contract_models() -> dict[str, type[Model]]:
    found: dict[str, type[Model]] = {}
    unseen: list[type[Model]] = [Model]
    while unseen:
        for model in unseen.pop().__subclasses__():
            found[model.__name__] = model
            unseen.append(model)
    return found


def _response_models(document: dict[str, Any], method: str, path: str) -> list[type[Model]]:
    """The models of an operation's JSON answer: one, or the branches of a union (``oneOf``)."""
    responses = document["paths"][path][method.lower()]["responses"]
    success = min(status for status in responses if status.startswith("2"))
    schema = responses[success]["content"]["application/json"]["schema"]
    models = _contract_models()  # every one is imported: create_app() imports every router
    return [models[ref["$ref"].rsplit("/", 1)[-1]] for ref in schema.get("oneOf", [schema])]


def _validates(model: type[Model], value: Any) -> bool:
    try:
        model.model_validate(value)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("name", [n for n in ROUTES if n.endswith(".json")])
def test_each_answer_validates_against_its_response_model(
    document: dict[str, Any], name: str
) -> None:
    models = _response_models(document, *ROUTES[name])
    valid = [m.__name__ for m in models if _validates(m, examples.load(name))]
    # one model, or exactly one branch of a union (an offer is one kind)
    assert len(valid) == 1, f"{name} validates against {valid} of {[m.__name__ for m in models]}"


def test_the_csv_and_the_calendar_are_the_saved_offers_schedule() -> None:
    lines = examples.SAVED_OFFER["offer"]["schedule"]["lines"]
    rows = list(csv.DictReader(io.StringIO(examples.LINK_CSV, newline="")))
    assert [r["number"] for r in rows[:-1]] == [str(line["number"]) for line in lines]
    assert [r["payment"] for r in rows[:-1]] == [line["payment"] for line in lines]
    assert rows[-1]["number"] == "total"
    calendar = icalendar.Calendar.from_ical(examples.LINK_ICS)
    events = calendar.walk("VEVENT")
    assert [e.decoded("dtstart").isoformat() for e in events] == [
        line["payment_date"] for line in lines
    ]
    assert {str(e["uid"]).split("@")[0] for e in events} == {examples.SAVED_OFFER["id"]}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What ``make examples`` writes now, in a directory of its own (a process of its own:
    the writer sets the environment a service reads once)."""
    out = tmp_path_factory.mktemp("examples")
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    subprocess.run(
        [sys.executable, "-m", "tests.examples_writer", "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": path},
        check=True,
        capture_output=True,
        timeout=600,
    )
    return out


def _without(answer: dict[str, Any], fields: tuple[str, ...], committed: dict[str, Any]) -> bytes:
    for field in fields:
        assert field in answer["body"], f"the service no longer answers {field}"
        assert field not in committed["body"], f"{field} is in the file now: drop NOT_YET_IN"
        del answer["body"][field]
    return render("policy_version.json", answer)


@pytest.mark.parametrize("name", list(ROUTES))
def test_make_examples_writes_the_committed_files(written: Path, name: str) -> None:
    committed = (EXAMPLES / name).read_bytes()
    fresh = (written / name).read_bytes()
    if name in NOT_YET_IN:
        fresh = _without(json.loads(fresh), NOT_YET_IN[name], json.loads(committed))
    assert fresh == committed, (
        f"the service's answer differs from schemas/examples/{name}: run `make examples`, review"
        " the diff, and regenerate tests/golden/openapi.json (REPAY_UPDATE_GOLDEN=1)"
    )
