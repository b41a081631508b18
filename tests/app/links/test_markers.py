"""A link's party marker (``?p=``) that names nobody is the links' one 404 on every variant
of the link: the page, its ``.ics``, ``.csv`` and ``.json`` (app/links/routes/links.py).

The page always refused it; the downloads ignored the query and answered 200.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.links.web import EXAMPLE_MARKER
from tests.app.links.test_sharing import saved, token_of

Headers = dict[str, dict[str, str]]
VARIANTS = ("", ".ics", ".csv", ".json")


@pytest.mark.parametrize("suffix", VARIANTS)
def test_a_marker_of_nobody_is_the_links_404(
    client: TestClient, auth: Headers, suffix: str
) -> None:
    token = token_of(saved(client, auth["collector"]))
    unknown = client.get(f"/s/{'A' * len(token)}{suffix}")

    plain = client.get(f"/s/{token}{suffix}")
    marked = client.get(f"/s/{token}{suffix}", params={"p": EXAMPLE_MARKER})

    assert plain.status_code == 200, plain.text
    assert marked.status_code == 404, marked.text
    assert marked.headers["content-type"] == unknown.headers["content-type"]
    if suffix in (".csv", ".json"):
        # neither has a language to choose: the very bytes of an unknown token's 404
        assert marked.content == unknown.content
