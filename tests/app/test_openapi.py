"""The OpenAPI document: pinned by a golden file, with an example on every operation.

``tests/golden/openapi.json`` is ``create_app().openapi()`` as JSON with sorted keys and an
indent of 2. Any change to the contract (a field, a bound, a status code, a description, an
example) fails :func:`test_openapi_matches_the_golden_file` with a unified diff. A change that
is meant is regenerated and reviewed with the code that made it::

    REPAY_UPDATE_GOLDEN=1 .venv/bin/pytest tests/app/test_openapi.py

which rewrites the golden file (and passes); commit the file with the change.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from app.main import create_app
from schemas.common import Model

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "openapi.json"
UPDATE = os.environ.get("REPAY_UPDATE_GOLDEN") == "1"
MAX_DIFF_LINES = 200
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app().openapi()


def test_openapi_matches_the_golden_file(document: dict[str, Any]) -> None:
    current = render(document)
    if UPDATE:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(current, encoding="utf-8")
        return
    if not GOLDEN.exists():
        pytest.fail(
            f"{GOLDEN} is missing; create it with REPAY_UPDATE_GOLDEN=1 (see the docstring)"
        )
    golden = GOLDEN.read_text(encoding="utf-8")
    if current == golden:
        return
    diff = list(
        difflib.unified_diff(
            golden.splitlines(),
            current.splitlines(),
            fromfile="tests/golden/openapi.json",
            tofile="create_app().openapi()",
            lineterm="",
        )
    )
    shown = "\n".join(diff[:MAX_DIFF_LINES])
    more = (
        f"\n... {len(diff) - MAX_DIFF_LINES} more diff lines" if len(diff) > MAX_DIFF_LINES else ""
    )
    pytest.fail(
        "The OpenAPI document differs from the golden file. If the change is meant, regenerate"
        " it with REPAY_UPDATE_GOLDEN=1 and review the diff with the code.\n" + shown + more,
        pytrace=False,
    )


def _resolve(document: dict[str, Any], schema: Any) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _schema_has_example(document: dict[str, Any], schema: Any) -> bool:
    schema = _resolve(document, schema)
    if not isinstance(schema, dict):
        return False
    if schema.get("example") is not None or schema.get("examples"):
        return True
    # a union (an offer of any kind) is exemplified by its branches
    branches = [b for key in ("oneOf", "anyOf", "allOf") for b in schema.get(key, [])]
    return any(_schema_has_example(document, b) for b in branches)


def _media_has_example(document: dict[str, Any], content: dict[str, Any]) -> bool:
    return any(
        media.get("example") is not None
        or media.get("examples")
        or _schema_has_example(document, media.get("schema"))
        for media in content.values()
    )


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def _has_example(document: dict[str, Any], operation: dict[str, Any]) -> bool:
    body = operation.get("requestBody", {}).get("content", {})
    parameters = operation.get("parameters", [])
    responses = [
        response.get("content", {})
        for status, response in operation["responses"].items()
        if status.startswith("2")
    ]
    return (
        _media_has_example(document, body)
        or any(
            p.get("example") is not None
            or p.get("examples")
            or _schema_has_example(document, p.get("schema"))
            for p in parameters
        )
        or any(_media_has_example(document, content) for content in responses)
    )


def test_every_operation_has_an_example(document: dict[str, Any]) -> None:
    missing = [name for name, op in _operations(document) if not _has_example(document, op)]
    assert not missing, f"operations without a request or response example: {missing}"


def _models(base: type[BaseModel]) -> Iterator[type[BaseModel]]:
    for model in base.__subclasses__():
        yield model
        yield from _models(model)


def _examples(model: type[BaseModel]) -> list[Any]:
    # the model's own examples (``with_examples``), not ones inherited from its base
    extra = model.__dict__.get("model_config", {}).get("json_schema_extra")
    return list(extra.get("examples", [])) if isinstance(extra, dict) else []


def test_every_model_example_is_valid() -> None:
    create_app()  # imports every router, and with them every model of the contract
    checked = 0
    for model in set(_models(Model)):
        for example in _examples(model):
            model.model_validate(example)
            checked += 1
    assert checked >= 30, "the contract's examples were not found"
