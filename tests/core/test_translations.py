"""The English catalogues: one translation per source string across the project.

Django merges every catalogue of a language into one at run time (kefu/locale first, then the apps
in INSTALLED_APPS order), so when an app's catalogue translates a string differently from another
catalogue, one of the two translations is silently never shown, and a page may say "Started" on a
button meant to say "Start". A string that needs another word in one place takes a context
(`pgettext` / `{% translate "…" context "…" %}`).
"""

import gettext
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from django.utils import translation

KEFU = Path(__file__).resolve().parents[2] / "kefu"
CATALOGUES = sorted(KEFU.glob("**/locale/en/LC_MESSAGES/django.mo"))


def _entries(mo: Path) -> dict[str, str]:
    with mo.open("rb") as f:
        catalog = gettext.GNUTranslations(f)._catalog
    # Keys are msgid, "context\x04msgid", or (msgid, n) for plural forms; the header is "".
    return {k: v for k, v in catalog.items() if isinstance(k, str) and k}


def test_the_catalogues_are_found():
    assert KEFU / "locale/en/LC_MESSAGES/django.mo" in CATALOGUES
    assert len(CATALOGUES) > 1  # the apps with their own catalogue


def test_no_source_string_is_translated_two_ways():
    seen: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for mo in CATALOGUES:
        for msgid, msgstr in _entries(mo).items():
            seen[msgid][msgstr].append(str(mo.relative_to(KEFU).parents[2]))
    clashes = [f"{msgid.replace(chr(4), ' | ')!r}: " + "; ".join(f"{s!r} in {', '.join(where)}" for s, where in ways.items())
               for msgid, ways in seen.items() if len(ways) > 1]
    assert not clashes, f"{len(clashes)} strings translated two ways:\n" + "\n".join(clashes)


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="msgfmt (gettext) is not installed")
@pytest.mark.parametrize("mo", CATALOGUES, ids=lambda p: str(p.relative_to(KEFU).parents[2]))
def test_each_compiled_catalogue_matches_its_source(mo, tmp_path):
    out = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(out), str(mo.with_suffix(".po"))], check=True)
    assert _entries(out) == _entries(mo), f"{mo.with_suffix('.po')} changed since it was compiled (compilemessages)"


def test_a_word_with_two_meanings_reads_right_in_each_place():
    from kefu.quality.enums import ReviewAction

    with translation.override("en"):
        assert translation.gettext("提交") == "Submit"  # the forms' button
        assert str(ReviewAction.SUBMITTED.label) == "Submitted"  # a step in a review's history
        assert translation.gettext("开始") == "Start"  # a button, a shift's start, a column
        assert translation.gettext("停用") == "Inactive"  # a state
        assert translation.pgettext("action", "停用") == "Deactivate"  # the button
