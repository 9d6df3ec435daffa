"""Every user-facing string exists in the five languages, and the compiled catalogs are current."""

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"


def _entries(po: Path) -> dict[str, str]:
    """msgid (with context, as gettext keys it) → the whole msgstr block, from a .po file."""
    text = re.sub(r'"\n"', "", po.read_text())  # join continued lines
    entries = {}
    for block in text.split("\n\n"):
        if block.lstrip().startswith("#~"):
            continue
        msgid = re.search(r'^msgid "(.*)"$', block, re.M)
        if not msgid or not msgid.group(1):
            continue
        context = re.search(r'^msgctxt "(.*)"$', block, re.M)
        key = (f"{context.group(1)}\x04" if context else "") + msgid.group(1)
        entries[key] = block
    return entries


@pytest.mark.parametrize("language", ["is", "zh_Hans", "ru", "pl"])
def test_every_string_is_translated_and_compiled(language):
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    entries = _entries(po)
    assert len(entries) > 500
    untranslated = [key for key, block in entries.items() if re.search(r'^msgstr(\[\d\])? ""$', block, re.M)]
    fuzzy = [key for key, block in entries.items() if "#, fuzzy" in block]
    assert untranslated == [] and fuzzy == []
    with open(po.with_suffix(".mo"), "rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)._catalog
    missing = [key for key in entries if key.replace('\\"', '"').replace("\\n", "\n") not in catalog
               and (key.replace('\\"', '"').replace("\\n", "\n"), 0) not in catalog]  # fmt: skip
    assert missing == [], "run `make messages`: the .mo is older than the .po"
