"""UMS profiles as CSV: the export of the profile list (with its filters and order) and the import
of many profiles at once.

The import reads the file, checks every row against the platform at once (a handful of queries
whatever the row count) and shows a preview with what will happen per row and every error next to
its row: unknown contract or site, an address taken on the platform or twice in the file, a
missing field, more rows than free licences. Only a file without a single error is imported, in
one transaction: all profiles or none. Each profile gets its invitation through the mail outbox,
which delivers only after the commit.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from flask_babel import to_user_timezone
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Contract, Service, UmsProfile, User
from . import accounts, csv_export, phone, profiles
from .contracts import licence_lines
from .errors import AccessDenied, DomainError, ValidationFailed

MAX_ROWS = 5000
MAX_BYTES = 2 * 1024 * 1024

# Columns of the template (German labels of the FAQ) and the other spellings the import accepts.
COLUMNS = ("contract", "site", "last_name", "first_name", "email", "language")
HEADER_LABELS = {
    "contract": _l("Vertrag / Enterprise"),
    "site": _l("Standort / Gruppe"),
    "last_name": _l("Name"),
    "first_name": _l("Vorname"),
    "email": _l("E-Mail-Adresse"),
    "language": _l("Language"),
}
ALIASES = {
    "contract": ("vertrag / enterprise", "vertrag", "contract / enterprise", "contract", "enterprise",
                 "vertragsnummer"),
    "site": ("standort / gruppe", "standort", "site / group", "site", "gruppe", "group"),
    "last_name": ("name", "nachname", "last name", "last_name", "surname"),
    "first_name": ("vorname", "first name", "first_name", "given name"),
    "email": ("e-mail-adresse", "e-mail", "email", "e-mail address", "email address", "mail"),
    "language": ("sprache", "language", "lang"),
}
REQUIRED = ("site", "last_name", "first_name", "email")


# --- export ----------------------------------------------------------------------------------------

def export_header() -> list[str]:
    return [str(_l("Name")), str(_l("Vorname")), str(_l("E-Mail-Adresse")), str(_l("Vertrag / Enterprise")),
            str(_l("Standort / Gruppe")), str(_l("Fax")), str(_l("Anrufbeantworter")), str(_l("Konferenz")),
            str(_l("Access")), str(_l("Created"))]


def export_rows(session: Session, user: User, flt: profiles.ProfileFilter, batch: int = 500) -> Iterator[list]:
    """The rows of the profile list with ``flt`` (every page), as the list shows them."""
    active, invited = str(_l("active")), str(_l("invited, no password yet"))
    for profile, numbers in profiles.iter_profiles(session, user, flt, batch):
        yield [profile.last_name, profile.first_name, profile.email_normalized, profile.contract.number,
               profile.site.name, *(phone.display(numbers.get(s)) for s in (Service.FAX, Service.VOICEMAIL,
                                                                             Service.CONFERENCE)),
               active if profile.user.password_set_at else invited, to_user_timezone(profile.created_at)]


def template_csv() -> str:
    """The import template: the header and one example row."""
    header = [str(HEADER_LABELS[c]) for c in COLUMNS]
    example = ["V-200001", "Berlin Zentrale", "Muster", "Erika", "erika.muster@example.com", "de"]
    return "".join(csv_export.rows_to_csv(header, [example]))


# --- import ----------------------------------------------------------------------------------------

@dataclass
class ImportRow:
    line: int  # the line in the file (the header is line 1)
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    contract: Contract | None = None
    site_id: int | None = None
    email: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class ImportPreview:
    rows: list[ImportRow]
    file_errors: list[str] = field(default_factory=list)
    # contract number → (rows in the file, free licences)
    licences: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def error_count(self) -> int:
        return len(self.file_errors) + sum(1 for r in self.rows if r.errors)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and self.error_count == 0


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):  # Excel saves „CSV (Trennzeichen-getrennt)“ in cp1252
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(_l("The file is not a text file (CSV)."), field="file")


def _column_of(heading: str) -> str | None:
    key = " ".join(heading.strip().lower().replace("\ufeff", "").split())
    for column, aliases in ALIASES.items():
        if key in aliases:
            return column
    return None


def parse(data: bytes) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """The rows of an uploaded file as (line, {column: value}); refused as a whole (with the
    reason) when it cannot be read or lacks a column."""
    if not data:
        raise ValidationFailed(_l("Please choose a CSV file."), field="file")
    if len(data) > MAX_BYTES:
        raise ValidationFailed(_l("The file is larger than 2 MB. Please split it."), field="file")
    text = _decode(data)
    if "\x00" in text:
        raise ValidationFailed(_l("The file is not a text file (CSV)."), field="file")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise ValidationFailed(_l("The file is empty."), field="file")
        columns = [_column_of(h) for h in header]
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            raise ValidationFailed(_l(
                "The file lacks the column(s) %(columns)s. Please use the template.",
                columns=", ".join(f"„{HEADER_LABELS[c]}“" for c in missing)), field="file")
        rows = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise ValidationFailed(_l("At most %(max)d profiles per file, please.", max=MAX_ROWS),
                                       field="file")
            row = {c: profiles.printable(v).strip() for c, v in zip(columns, values, strict=False) if c}
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise ValidationFailed(_l("The file could not be read as CSV (line %(line)d).", line=reader.line_num),
                               field="file") from exc
    if not rows:
        raise ValidationFailed(_l("The file has no rows below its header."), field="file")
    return rows, []


def check(session: Session, actor: User, data: bytes) -> ImportPreview:
    """What importing this file would do, row by row, without changing anything."""
    parsed, _ = parse(data)
    contracts = profiles.manageable_contracts(session, actor)
    if not contracts:
        raise AccessDenied(profiles.refusal_without_customers(session, actor))
    by_number = {c.number.lower(): c for c in contracts}
    only = contracts[0] if len(contracts) == 1 else None
    rows = [ImportRow(line, values) for line, values in parsed]

    for row in rows:
        v = row.values
        contract_number = v.get("contract", "")
        row.contract = by_number.get(contract_number.lower()) if contract_number else only
        if row.contract is None:
            row.errors.append(str(_l("Unknown contract „%(contract)s“: it is not one of the contracts you manage.",
                                     contract=contract_number)) if contract_number
                              else str(_l("Please enter the contract (Vertrag / Enterprise).")))
        else:
            sites = {s.name.lower(): s.id for s in row.contract.sites}
            row.site_id = sites.get(v.get("site", "").lower())
            if row.site_id is None:
                row.errors.append(str(_l("Unknown site „%(site)s“ of contract %(contract)s. Its sites: %(sites)s.",
                                         site=v.get("site", ""), contract=row.contract.number,
                                         sites=", ".join(s.name for s in row.contract.sites))))
        for column, message in (("last_name", _l("Please enter the name.")),
                                ("first_name", _l("Please enter the first name."))):
            if not v.get(column):
                row.errors.append(str(message))
            elif len(v[column]) > 100:
                row.errors.append(str(_l("%(column)s: at most 100 characters, please.",
                                         column=HEADER_LABELS[column])))
        if v.get("language", "de").lower() not in ("", *profiles.LANGUAGES):
            row.errors.append(str(_l("Language must be „de“ or „en“.")))
        try:
            row.email = accounts.normalize_email(v.get("email", ""))
        except DomainError:
            row.errors.append(str(_l("„%(email)s“ is not a valid e-mail address.", email=v.get("email", "")))
                              if v.get("email") else str(_l("Please enter the e-mail address.")))

    # addresses: taken on the platform (two queries for the whole file) or twice in the file
    emails = [r.email for r in rows if r.email]
    taken = set()
    for chunk_start in range(0, len(emails), 500):
        chunk = emails[chunk_start:chunk_start + 500]
        taken |= set(session.scalars(select(UmsProfile.email_normalized).where(UmsProfile.email_normalized.in_(chunk))))
        taken |= set(session.scalars(select(func.lower(User.email)).where(func.lower(User.email).in_(chunk))))
    seen: dict[str, int] = {}
    for row in rows:
        if not row.email:
            continue
        if row.email in taken:
            row.errors.append(str(_l("The e-mail address %(email)s is already used on the UMS platform.",
                                     email=row.email)))
        if row.email in seen:
            row.errors.append(str(_l("The e-mail address %(email)s is already in line %(line)d of this file.",
                                     email=row.email, line=seen[row.email])))
        else:
            seen[row.email] = row.line

    # licences: the rows of a contract beyond its free licences cannot be created
    preview = ImportPreview(rows)
    needed = Counter(r.contract.id for r in rows if r.contract is not None)
    lines = licence_lines(session, list(needed))
    for contract in contracts:
        if contract.id not in needed:
            continue
        free = lines[contract.id].free
        preview.licences[contract.number] = (needed[contract.id], free)
        if needed[contract.id] > free:
            preview.file_errors.append(str(_l(
                "Contract %(contract)s has %(free)d free UMS licences, the file needs %(needed)d. Order more „Unified Messaging Paket“ licences (Nachbestellung) or remove rows.",
                contract=contract.number, free=free, needed=needed[contract.id])))
            for row in [r for r in rows if r.contract is contract][free:]:
                row.errors.append(str(_l("No free licence left on contract %(contract)s for this row.",
                                         contract=contract.number)))
    return preview


def run_import(session: Session, actor: User, data: bytes) -> tuple[ImportPreview, list[UmsProfile]]:
    """Import the file if it has no error at all: every profile or none. The caller commits; on a
    refusal (the preview has errors, or a create raced with another change) nothing is kept."""
    preview = check(session, actor, data)
    if not preview.ok:
        return preview, []
    created = profiles.create_profiles(session, actor, [
        profiles.NewProfile(row.contract.id, row.site_id, row.values["last_name"], row.values["first_name"],
                            row.values["email"], (row.values.get("language") or "de").lower())
        for row in preview.rows])
    return preview, created
