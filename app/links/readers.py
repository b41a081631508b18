"""Who reads a debtor's page, told by the room that knows the debt's parties.

One offer has one link, but each party of the debt gets their own (the link plus ``?p=`` and
their marker), and the page then reads for that party: in the language of their messages, with
the messages delivered to them and their contact preferences. Links knows neither parties nor
messages, and must not import the rooms that do (they build on links); so the room that knows
them provides the reader (``app.messaging.install``) and the page asks through
:func:`page_reader`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.links.models import SavedOffer
from app.links.views import ContactView


@dataclass(frozen=True, slots=True)
class PageReader:
    """The party a page reads for: the language of their messages, and their contact section
    (given the address of the page's preferences form)."""

    locale: str
    contact_view: Callable[[str], ContactView]


#: Finds the reader of ``offer``'s page from its token and the party's marker (``None``: the
#: shared link, read for the debtor); ``None`` when nobody is on file. A marker of no party
#: raises the links' one 404 (``app.core.errors.no_such_link``).
ReaderFinder = Callable[[Session, SavedOffer, str, str | None], PageReader | None]

_finder: list[ReaderFinder] = []


def provide(finder: ReaderFinder) -> None:
    """Make ``finder`` the one that tells a page's reader (the last provided wins)."""
    _finder[:] = [finder]


def page_reader(
    db: Session, offer: SavedOffer, token: str, marker: str | None
) -> PageReader | None:
    """The reader of ``offer``'s page, as the providing room tells it."""
    if not _finder:
        raise LookupError("no room provides the page's reader: call app.messaging.install()")
    return _finder[0](db, offer, token, marker)
