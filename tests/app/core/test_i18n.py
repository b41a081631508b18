"""The gettext catalogs (``app/locale``, loaded by ``app/core/i18n.py``) against the code.

The message ids are extracted here the way ``make messages`` does (Babel's extraction API with
the repository's ``babel.cfg``: gettext calls in Python, ``_()`` and ``{% trans %}`` in the
Jinja2 templates), in process, and compared with the template catalog and each language's
catalog: every id present, none left over, none fuzzy, every one translated in Chinese with the
same ``%(name)s`` fields and line breaks. When one fails: ``make messages``, translate what it
names in ``app/locale/zh_CN/LC_MESSAGES/messages.po``, and run the tests again.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from app.core import i18n
from app.core.i18n import (
    LOCALE_DIR,
    CatalogNotFound,
    MissingTranslation,
    Words,
    catalog_path,
    translations,
)
from schemas.common import Locale

ROOT = Path(__file__).resolve().parents[3]
FIELD = re.compile(r"%\((\w+)\)[sd]")

Key = tuple[str | None, str]  # (context, singular id)


@cache
def extracted() -> dict[Key, Message]:
    """The ids the code and templates ask for now, as ``pybabel extract -F babel.cfg`` finds
    them."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)  # type: ignore[no-untyped-call]
    catalog = Catalog()
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT, method_map, options_map
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return {key(m): m for m in catalog if m.id}


def key(message: Message) -> Key:
    return message.context, ids(message)[0]


def ids(message: Message) -> list[str]:
    """The id, or the singular and plural ids."""
    return [message.id] if isinstance(message.id, str) else list(message.id)


def strings(message: Message) -> list[str]:
    """The translation, or one per plural form; empty when untranslated."""
    text = message.string
    return [text or ""] if text is None or isinstance(text, str) else list(text)


@cache
def catalog(name: str) -> Catalog:
    """``name`` is ``"messages.pot"`` or a language's folder (``"zh_CN"``)."""
    path = LOCALE_DIR / name if name.endswith(".pot") else LOCALE_DIR / name / "LC_MESSAGES"
    if path.is_dir():
        path = path / "messages.po"
    with path.open("rb") as source:
        return read_po(source, locale=None if name.endswith(".pot") else name)


LANGUAGES = [p.name for p in sorted(LOCALE_DIR.iterdir()) if p.is_dir()]


def entries(name: str) -> Iterator[Message]:
    return (m for m in catalog(name) if m.id)


def test_every_locale_of_the_contract_has_a_catalog() -> None:
    assert sorted(LANGUAGES) == sorted(i18n.catalog_name(locale) for locale in Locale)


def test_extraction_finds_the_pages_the_messages_and_the_summary() -> None:
    # a guard against an extraction that silently finds nothing (a wrong babel.cfg pattern)
    files = {Path(f).name for m in extracted().values() for f, _ in m.locations}
    assert {"offer.html", "change.html", "reminder.txt", "summaries.py", "pages.py"} <= files


def test_the_template_catalog_is_up_to_date_with_the_code() -> None:
    in_code, in_pot = set(extracted()), {key(m) for m in entries("messages.pot")}
    assert sorted(in_code - in_pot, key=str) == [], "new ids: run `make messages`"
    assert sorted(in_pot - in_code, key=str) == [], "ids no longer used: run `make messages`"
    plurals = {key(m): m.id for m in extracted().values() if m.pluralizable}
    assert {key(m): m.id for m in entries("messages.pot") if m.pluralizable} == plurals


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_catalog_has_every_id_and_nothing_else(language: str) -> None:
    po = catalog(language)
    assert not po.fuzzy, "the header is marked fuzzy: `pybabel compile` would skip the catalog"
    assert list(po.obsolete) == [], "obsolete entries left: run `make messages`"
    assert sorted({key(m) for m in entries(language)}, key=str) == sorted(extracted(), key=str)
    assert [key(m) for m in entries(language) if m.fuzzy] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_translation_keeps_the_fields_and_the_lines(language: str) -> None:
    for m in entries(language):
        singular, plural = ids(m)[0], ids(m)[-1]
        for text in strings(m):
            if not text:
                continue  # untranslated: only allowed in English (below)
            # ngettext's singular may leave the count out ("one month"), never another field
            assert set(FIELD.findall(text)) <= set(FIELD.findall(plural)), (m.id, text)
            assert set(FIELD.findall(text)) >= set(FIELD.findall(singular)) - {"num"}, (m.id, text)
            assert text.count("\n") == singular.count("\n"), (m.id, text)
            # new-style gettext does not escape the catalog's own words in an HTML page
            assert not set("<>&") & set(text), (m.id, text)
        assert [e for e in m.check(catalog(language)) if e] == [], m.id


def test_chinese_translates_every_id_in_every_plural_form() -> None:
    po = catalog("zh_CN")
    assert po.num_plurals == 1 and po.plural_expr == "0"  # Chinese has no plural forms
    for m in entries("zh_CN"):
        assert len(strings(m)) == (po.num_plurals if m.pluralizable else 1)
        assert all(s.strip() for s in strings(m)), f"untranslated: {m.id!r}"


def test_english_is_the_ids_own_language() -> None:
    # The English catalog leaves the ids as they are (gettext returns the id): a wording is
    # changed in the code, not in a second copy of it.
    assert [m.id for m in entries("en") if any(strings(m)) and strings(m) != ids(m)] == []
    assert catalog("en").num_plurals == 2


# --- the runtime ------------------------------------------------------------------------------


def test_a_missing_translation_is_an_error_not_english() -> None:
    with pytest.raises(MissingTranslation, match="zh_CN catalog has no translation"):
        Words(Locale.ZH_CN).gettext("A sentence nobody translated")
    with pytest.raises(MissingTranslation):
        Words(Locale.ZH_CN).pgettext("nowhere", "Total")
    with pytest.raises(MissingTranslation):
        Words(Locale.ZH_CN).ngettext("%(num)d ship", "%(num)d ships", 2)
    assert Words(Locale.EN).gettext("A sentence nobody translated") == (
        "A sentence nobody translated"
    )


def test_fields_and_plurals() -> None:
    zh, en = Words(Locale.ZH_CN), Words(Locale.EN)
    assert en.ngettext("%(num)d month", "%(num)d months", 1) == "1 month"
    assert en.ngettext("%(num)d month", "%(num)d months", 2) == "2 months"
    assert zh.ngettext("%(num)d month", "%(num)d months", 2) == "2个月"
    assert zh.gettext("For %(name)s", name="张*明") == "致：张*明"
    assert zh.pgettext("instalment status", "Paid") == "已还清"


def test_without_a_compiled_catalog_the_source_is_compiled_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "zh_CN" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    shutil.copy(catalog_path(Locale.ZH_CN), folder / "messages.po")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    translations.cache_clear()
    try:
        assert not (folder / "messages.mo").exists()
        assert translations(Locale.ZH_CN).gettext("Total") == "合计"
        translations.cache_clear()
        with pytest.raises(CatalogNotFound, match="no catalog for en"):
            translations(Locale.EN)
    finally:
        translations.cache_clear()
