"""The words shown to people, per locale, from gettext catalogs.

The catalogs live in ``app/locale/<lang>/LC_MESSAGES/messages.po`` (``en`` and ``zh_CN``), their
message ids are the English text, and ``make messages`` extracts the ids from the code and the
templates (``babel.cfg``) and merges them into each catalog. The compiled ``.mo`` files are build
artefacts: the install step (``make``), the wheel's build hook (``hatch_build.py``) and nothing
else writes them.

:func:`translations` is the one place a locale's catalog is loaded (once). It reads the ``.mo``;
when there is none, or the ``.po`` is newer (a catalog edited since the last build), it compiles
the ``.po`` in memory instead, so a stale or missing build never shows old words. A language
other than the ids' own that lacks a message raises :class:`MissingTranslation`: a Chinese page
never falls back to English words silently.

Python code reads the words through :class:`Words` (``t.gettext("Due on %(date)s", date=...)``);
templates through Jinja2's i18n extension (:func:`install`), with the same ``%(name)s`` fields.
"""

from __future__ import annotations

import gettext as stdlib_gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import BaseLoader, Environment, StrictUndefined

from schemas.common import Locale

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "messages"
# The message ids are English: its catalog may leave them untranslated.
SOURCE_LOCALE = Locale.EN


class MissingTranslation(LookupError):
    """A message id the locale's catalog does not translate."""


class CatalogNotFound(FileNotFoundError):
    """A locale with neither a compiled nor a source catalog."""


def catalog_name(locale: Locale) -> str:
    """The catalog folder of a locale: gettext spells ``zh-CN`` as ``zh_CN``.

    Examples
    --------
    >>> catalog_name(Locale.ZH_CN), catalog_name(Locale.EN)
    ('zh_CN', 'en')
    """
    return locale.value.replace("-", "_")


def catalog_path(locale: Locale, suffix: str = ".po") -> Path:
    """Where a locale's catalog is (``.po``, or ``.mo`` compiled)."""
    return LOCALE_DIR / catalog_name(locale) / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


class _Refuse(stdlib_gettext.NullTranslations):
    """The fallback of a translated catalog: a message it lacks is an error, not English."""

    def __init__(self, locale: Locale) -> None:
        super().__init__()
        self.locale = locale

    def _missing(self, message: str, context: str | None = None) -> MissingTranslation:
        where = "" if context is None else f" (context {context!r})"
        return MissingTranslation(
            f"the {catalog_name(self.locale)} catalog has no translation of {message!r}{where};"
            " run `make messages`, translate it in"
            f" {catalog_path(self.locale).relative_to(LOCALE_DIR.parent.parent)}"
        )

    def gettext(self, message: str) -> str:
        raise self._missing(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        raise self._missing(msgid1)

    def pgettext(self, context: str, message: str) -> str:
        raise self._missing(message, context)

    def npgettext(self, context: str, msgid1: str, msgid2: str, n: int) -> str:
        raise self._missing(msgid1, context)


def _compiled(po: Path, locale: Locale) -> io.BytesIO:
    # What `pybabel compile` writes (fuzzy entries left out), in memory.
    with po.open("rb") as source:
        catalog = read_po(source, locale=catalog_name(locale), domain=DOMAIN)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    out.seek(0)
    return out


@cache
def translations(locale: Locale) -> Translations:
    """The catalog of ``locale``, loaded once.

    Raises
    ------
    CatalogNotFound
        When the locale has neither ``messages.mo`` nor ``messages.po``.

    Examples
    --------
    >>> translations(Locale.ZH_CN).gettext("Total")
    '合计'
    >>> translations(Locale.EN).gettext("Total")
    'Total'
    """
    po, mo = catalog_path(locale), catalog_path(locale, ".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as compiled:
            loaded = Translations(compiled, domain=DOMAIN)
    elif po.exists():
        loaded = Translations(_compiled(po, locale), domain=DOMAIN)
    else:
        raise CatalogNotFound(
            f"no catalog for {locale.value}: expected {po} (add it with `pybabel init`,"
            " see README, Adding a language)"
        )
    if locale is not SOURCE_LOCALE:
        loaded.add_fallback(_Refuse(locale))
    return loaded


# Per loaded catalog (translations() is cached, so one per locale): message id -> translation.
_READ: dict[Translations, dict[str, str]] = {}


class Words:
    """The words of one locale for Python code, formatted with named fields.

    The methods are gettext's, so ``pybabel extract`` finds their ids; fields are ``%(name)s``
    as in the templates (Jinja2's new-style gettext), and ``ngettext`` passes ``num``.

    Examples
    --------
    >>> t = Words(Locale.ZH_CN)
    >>> t.gettext("Total")
    '合计'
    >>> t.ngettext("%(num)d month", "%(num)d months", 3)
    '3个月'
    >>> Words(Locale.EN).ngettext("%(num)d month", "%(num)d months", 1)
    '1 month'
    """

    def __init__(self, locale: Locale) -> None:
        self.locale = locale
        self.translations = translations(locale)
        # a message's translation, read once per catalog: the ids are the code's own, so few
        self._read = _READ.setdefault(self.translations, {})

    def gettext(self, message: str, /, **fields: object) -> str:
        text = self._read.get(message)
        if text is None:
            text = self._read[message] = str(self.translations.gettext(message))
        return text % fields

    def ngettext(self, singular: str, plural: str, n: int, /, **fields: object) -> str:
        return str(self.translations.ngettext(singular, plural, n)) % {"num": n, **fields}

    def pgettext(self, context: str, message: str, /, **fields: object) -> str:
        key = f"{context}\x04{message}"  # as gettext keys a message in a context
        text = self._read.get(key)
        if text is None:
            text = self._read[key] = str(self.translations.pgettext(context, message))
        return text % fields

    def npgettext(
        self, context: str, singular: str, plural: str, n: int, /, **fields: object
    ) -> str:
        text = self.translations.npgettext(context, singular, plural, n)
        return str(text) % {"num": n, **fields}


def environment(loader: BaseLoader, locale: Locale, *, autoescape: bool) -> Environment:
    """A Jinja2 environment for ``locale``'s words, as every template here is rendered: strict
    (a name the template was not given fails loudly), blocks trimmed, the last newline kept, the
    i18n extension on and the locale's catalog installed (:func:`install`)."""
    made = Environment(
        loader=loader,
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    return install(made, locale)


def install(environment: Environment, locale: Locale) -> Environment:
    """Give ``environment`` the words of ``locale`` for ``{% trans %}`` and ``_()``.

    The environment must have been made with ``extensions=["jinja2.ext.i18n"]``; new-style
    gettext formats the fields itself (``_("Due on %(date)s", date=d)``) and, when the
    environment autoescapes, escapes them but not the catalog's own text.
    """
    environment.install_gettext_translations(  # type: ignore[attr-defined]
        translations(locale), newstyle=True
    )
    return environment
