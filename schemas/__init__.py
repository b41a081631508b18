"""The service's contract (pydantic) and its wire format.

``plans`` is imported first: its check that no compiled module is older than its source
(``plans/__init__.py``) must run before ``schemas.wire``, which may be compiled too, is found.
"""

import plans  # noqa: F401
