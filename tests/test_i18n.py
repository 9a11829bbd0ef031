"""German and English catalogues stay complete and compiled."""

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "webapp" / "translations"


def _extract(tmp_path) -> set:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [str(Path(sys.executable).parent / "pybabel"), "extract", "-F", "babel.cfg", "-k", "_l",
         "-k", "lazy_gettext", "-k", "_n:1,2", "--no-location", "-o", str(pot), "webapp"],
        check=True, cwd=ROOT, capture_output=True,
    )
    with pot.open("rb") as fh:
        return {m.id for m in read_po(fh) if m.id}


def _catalog(locale: str, suffix: str = ".po"):
    path = TRANSLATIONS / locale / "LC_MESSAGES" / f"messages{suffix}"
    with path.open("rb") as fh:
        return read_po(fh) if suffix == ".po" else read_mo(fh)


def _translated(message) -> bool:
    if isinstance(message.string, tuple | list):
        return all(message.string)
    return bool(message.string)


def _key(value):
    """Plural entries come back as lists from .mo files and tuples from .po files."""
    return tuple(value) if isinstance(value, list | tuple) else value


def test_every_string_in_the_code_is_translated_to_german_and_english(tmp_path):
    source_ids = _extract(tmp_path)
    for locale in ("de", "en"):
        catalog = _catalog(locale)
        missing = sorted(
            str(mid) for mid in source_ids
            if catalog.get(mid if not isinstance(mid, tuple) else mid[0]) is None
            or not _translated(catalog.get(mid if not isinstance(mid, tuple) else mid[0]))
        )
        assert not missing, f"{locale}: untranslated (run scripts/i18n.py): {missing[:20]}"


def test_compiled_catalogues_match_their_sources():
    for locale in ("de", "en"):
        po = {_key(m.id): _key(m.string) for m in _catalog(locale) if m.id and _translated(m)}
        mo = {_key(m.id): _key(m.string) for m in _catalog(locale, ".mo") if m.id}
        assert po == mo, f"{locale}: messages.mo is stale, run scripts/i18n.py compile"
