"""Hatch build hook: compile the gettext catalogs (app/locale/*/LC_MESSAGES/messages.po) into the
.mo files the service reads (``app.core.i18n``), so a wheel ships them.

The .mo files are build artefacts, ignored by git (and so by hatch's file selection): the hook
compiles each one as ``pybabel compile`` would (fuzzy entries left out) and force-includes it.
An editable install reads the source tree, where ``make`` compiles them (the install step).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CatalogsHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "catalogs"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        out = Path(self.directory) / "catalogs"
        for po in sorted(Path(self.root, "app", "locale").glob("*/LC_MESSAGES/messages.po")):
            language = po.parent.parent.name
            with po.open("rb") as source:
                catalog = read_po(source, locale=language, domain="messages")
            mo = out / language / "messages.mo"
            mo.parent.mkdir(parents=True, exist_ok=True)
            with mo.open("wb") as compiled:
                write_mo(compiled, catalog, use_fuzzy=False)
            target = po.with_suffix(".mo").relative_to(self.root).as_posix()
            build_data["force_include"][str(mo)] = target
