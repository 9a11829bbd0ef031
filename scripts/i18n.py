"""Keep the German and English catalogues complete.

    python scripts/i18n.py extract            # re-extract messages.pot, update de/en catalogues
    python scripts/i18n.py fill FILE.json     # merge translations: {"msgid": "Deutsch"} or
                                              #   {"msgid": {"de": "...", "en": "..."}}; plural msgids
                                              #   take lists: {"msgid": {"de": ["ein", "viele"]}}
    python scripts/i18n.py missing            # list msgids without a translation (exit 1 if any)
    python scripts/i18n.py compile            # write the .mo files

English msgstrs default to the msgid (source strings are English, except the German labels of the
FAQ, which need an English translation given in the fill file). Runs under a file lock so that
parallel sessions do not overwrite each other's catalogue edits.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "webapp" / "translations"
POT = TRANSLATIONS / "messages.pot"
LOCALES = ("de", "en")
BIN = Path(sys.executable).parent


def _po(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def _load(path: Path):
    with path.open("rb") as fh:
        return read_po(fh)


def _save(catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, omit_header=False, no_location=True, sort_output=True, width=100)


def extract() -> None:
    subprocess.run([str(BIN / "pybabel"), "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
                    "-k", "_n:1,2", "--no-location", "--sort-output", "-o", str(POT), "webapp"],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for locale in LOCALES:
        po = _po(locale)
        if po.exists():
            subprocess.run([str(BIN / "pybabel"), "update", "--no-fuzzy-matching", "--ignore-obsolete",
                            "-i", str(POT), "-d", str(TRANSLATIONS), "-l", locale], check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:
            subprocess.run([str(BIN / "pybabel"), "init", "-i", str(POT), "-d", str(TRANSLATIONS),
                            "-l", locale], check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _default_english()


def _default_english() -> None:
    catalog = _load(_po("en"))
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            if not any(message.string):
                message.string = tuple(message.id)
        elif not message.string:
            message.string = message.id
    _save(catalog, _po("en"))


def fill(path: str) -> None:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    catalogs = {locale: _load(_po(locale)) for locale in LOCALES}
    unknown = []
    for msgid, value in data.items():
        per_locale = value if isinstance(value, dict) else {"de": value}
        key = msgid
        message = catalogs["de"].get(key)
        if message is None:
            unknown.append(msgid)
            continue
        for locale, text in per_locale.items():
            target = catalogs[locale].get(message.id if not isinstance(message.id, tuple) else message.id[0])
            if target is None:
                continue
            target.string = tuple(text) if isinstance(text, list) else text
    for locale, catalog in catalogs.items():
        _save(catalog, _po(locale))
    if unknown:
        print("not in the catalogue (run extract first?):", *unknown, sep="\n  ")


def missing() -> int:
    count = 0
    for locale in LOCALES:
        for message in _load(_po(locale)):
            if message.id and not (all(message.string) if isinstance(message.string, tuple) else message.string):
                print(f"{locale}: {message.id!r}")
                count += 1
    return count


def compile_all() -> None:
    for locale in LOCALES:
        catalog = _load(_po(locale))
        with _po(locale).with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalog)


def main(argv: list[str]) -> int:
    TRANSLATIONS.mkdir(parents=True, exist_ok=True)
    with (TRANSLATIONS / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        command = argv[1] if len(argv) > 1 else "missing"
        if command == "extract":
            extract()
        elif command == "fill":
            fill(argv[2])
        elif command == "compile":
            compile_all()
        elif command == "missing":
            return 1 if missing() else 0
        else:
            print(__doc__)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
