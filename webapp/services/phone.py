"""How phone numbers are shown: German national format, international for other countries,
and a block number's extension set off (``030 1234567-12``). Stored numbers are E.164."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers


@lru_cache(maxsize=4096)
def _format_e164(e164: str) -> str:
    """Formatting is slow in ``phonenumbers`` and numbers share few bases, so it is cached."""
    try:
        parsed = phonenumbers.parse(e164, "DE")
    except phonenumbers.NumberParseException:
        return e164
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if parsed.country_code == 49
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, fmt)


def display(number) -> str:
    """A ``PhoneNumber`` of a block (extension set off) or an E.164 string; "" for none."""
    if not number:
        return ""
    extension = getattr(number, "extension", None)
    e164 = getattr(number, "e164", number)
    if extension and e164.endswith(extension) and len(e164) > len(extension):
        return f"{_format_e164(e164[: -len(extension)])}-{extension}"
    return _format_e164(e164)


def numbers_by_e164(session, e164s) -> dict:
    """The platform's ``PhoneNumber`` rows for these E.164 strings, in one query: where only the
    string was kept (audit entries, deposits), ``display`` can then set off the extension."""
    from sqlalchemy import select

    from ..models import PhoneNumber

    wanted = sorted({e for e in e164s if e})
    if not wanted:
        return {}
    return {n.e164: n for n in session.scalars(select(PhoneNumber).where(PhoneNumber.e164.in_(wanted)))}
