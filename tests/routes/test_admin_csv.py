"""Administration at scale: CSV export of the profile list and the audit trail, CSV import of UMS
profiles (preview with per-row errors, all or nothing, invitations after the commit), and the
profile list's sorting, page size and page jump."""

from __future__ import annotations

import csv
import io
import re
import time

import pytest
from sqlalchemy import func, select

from tests.conftest import HTMX, login
from tests.routes.test_admin import count_queries  # noqa: F401, F811  (the fixture)
from webapp.models import Contract, Licence, MailMessage, UmsProfile

ADMIN = "admin@muster.example"
HEADER = "Vertrag / Enterprise;Standort / Gruppe;Name;Vorname;E-Mail-Adresse;Sprache\r\n"


def read_csv(response) -> list[list[str]]:

    body = response.get_data()
    assert body.startswith("\ufeff".encode())  # UTF-8 BOM: Excel opens it as UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), delimiter=";"))


def get(client, url):
    """The whole download (the test client reads the stream inside the request's context)."""
    return client.get(url, buffered=True)


def profile_count(session) -> int:
    return session.scalar(select(func.count()).select_from(UmsProfile))


def upload(client, text: str, headers=None, name="profile.csv"):
    return client.post("/ums/import", data={"file": (io.BytesIO(text.encode("utf-8")), name)},
                       content_type="multipart/form-data", headers=headers or {})


def add_licences(session, count: int, contract="V-200001") -> None:
    c = session.scalar(select(Contract).where(Contract.number == contract))
    session.add_all(Licence(contract_id=c.id) for _ in range(count))
    session.flush()


# --- export ----------------------------------------------------------------------------------------


def test_profile_export_is_excel_csv_with_the_lists_filters_and_numbers_as_shown(client):
    login(client, ADMIN)
    response = get(client, "/ums/profiles.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.match(r'attachment; filename="ums-profile-\d{4}-\d\d-\d\d\.csv"', response.headers["Content-Disposition"])
    rows = read_csv(response)
    assert rows[0][:5] == ["Name", "Vorname", "E-Mail-Adresse", "Vertrag / Enterprise", "Standort / Gruppe"]
    anna = next(r for r in rows if r[2] == "anna.schmidt@muster.example")
    assert anna[:2] == ["Schmidt", "Anna"]
    assert re.fullmatch(r"030 1234567-\d+", anna[6])  # Anrufbeantworter as in the list, extension set off
    assert b"\r\n" in response.get_data()

    filtered = read_csv(get(client, "/ums/profiles.csv?q=schmidt"))
    assert [r[2] for r in filtered[1:]] == ["anna.schmidt@muster.example"]
    newest_first = read_csv(get(client, "/ums/profiles.csv?sort=email&dir=desc"))
    emails = [r[2] for r in newest_first[1:]]
    assert emails == sorted(emails, reverse=True)


def test_export_neutralises_formulas_and_stays_in_scope(client, db_session):
    login(client, ADMIN)
    anna = db_session.scalar(select(UmsProfile).where(UmsProfile.email == "anna.schmidt@muster.example"))
    anna.first_name = "=HYPERLINK(\"http://evil\")"
    db_session.flush()
    rows = read_csv(get(client, "/ums/profiles.csv?q=schmidt"))
    assert rows[1][1] == "'=HYPERLINK(\"http://evil\")"
    # another customer's admin exports only their own profiles
    other = client.application.test_client()
    login(other, "cf-admin@beispiel.example")
    assert all("muster.example" not in r[2] for r in read_csv(get(other, "/ums/profiles.csv"))[1:])


def test_export_of_many_rows_streams_in_batches(app, client, db_session, count_queries):  # noqa: F811
    """10,000 rows never sit in memory at once: the rows are read in batches (500), written out a
    hundred at a time, and the first chunk leaves before the second batch is read."""
    from tests.routes.test_admin import _add_profiles
    from webapp.models import User
    from webapp.services import csv_export, profile_csv, profiles

    _add_profiles(db_session, 258)  # 260 with the demo's two
    login(client, ADMIN)
    admin = db_session.scalar(select(User).where(User.email == ADMIN))
    with app.test_request_context():
        chunks = csv_export.rows_to_csv(profile_csv.export_header(),
                                        profile_csv.export_rows(db_session, admin, profiles.ProfileFilter(), batch=200))
        count_queries.clear()
        first = next(chunks)
        reads_before = len([q for q in count_queries if "FROM ums_profiles" in q])
        rest = list(chunks)
        reads_after = len([q for q in count_queries if "FROM ums_profiles" in q])
    assert first.startswith("\ufeff") and first.count("\r\n") == 101  # header + 100 rows
    assert len(rest) >= 2
    assert reads_before == 1 and reads_after == 2  # the second batch only when needed
    assert len(read_csv(get(client, "/ums/profiles.csv"))) == 1 + 260


def test_audit_export_keeps_its_filters_and_shows_numbers_with_the_extension(client, db_session):
    login(client, ADMIN)
    anna = db_session.scalar(select(UmsProfile).where(UmsProfile.email == "anna.schmidt@muster.example"))
    client.post(f"/ums/profiles/{anna.id}/services/fax/release", headers=HTMX)
    rows = read_csv(get(client, f"/ums/audit.csv?profile={anna.id}&action=number.released"))
    assert rows[0] == ["Wann", "Wer", "Aktion", "Profil", "Kunde", "Details"]
    assert len(rows) == 2
    assert rows[1][1] == ADMIN and rows[1][2] == "Rufnummer freigegeben"
    assert re.search(r"Rufnummer: 030 1234567-\d+", rows[1][5])
    # the page itself shows the number the same way
    page = client.get(f"/ums/audit?profile={anna.id}").text
    assert re.search(r"Rufnummer: 030 1234567-\d+", page)


def test_export_needs_the_admin_area(client):
    login(client, "anna.schmidt@muster.example")
    assert get(client, "/ums/profiles.csv").status_code == 403
    assert client.get("/ums/audit.csv").status_code == 403


# --- import ----------------------------------------------------------------------------------------


def test_template_download_has_the_columns_the_import_reads(client):
    login(client, ADMIN)
    response = get(client, "/ums/import/template.csv")
    assert response.status_code == 200
    rows = read_csv(response)
    assert rows[0] == ["Vertrag / Enterprise", "Standort / Gruppe", "Name", "Vorname", "E-Mail-Adresse", "Sprache"]


def test_import_page_full_and_partial(client):
    login(client, ADMIN)
    page = client.get("/ums/import")
    assert page.status_code == 200 and "<html" in page.text and 'id="profile-import"' in page.text
    partial = client.get("/ums/import", headers=HTMX)
    assert partial.text.lstrip().startswith('<section id="profile-import"')


def test_preview_shows_every_error_next_to_its_row_and_imports_nothing(client, db_session):
    login(client, ADMIN)
    before = profile_count(db_session)
    mails_before = db_session.scalar(select(func.count()).select_from(MailMessage))
    text = HEADER + (
        "V-200001;Berlin Zentrale;Gut;Gerda;gerda.gut@muster.example;de\r\n"          # line 2: fine
        "V-200001;Paris;Weit;Walter;walter.weit@muster.example;de\r\n"                # 3: unknown site
        "V-200001;Hamburg;Schmidt;Anna;ANNA.SCHMIDT@muster.example;de\r\n"            # 4: address taken
        "V-200001;Hamburg;Doppel;Dora;gerda.gut@muster.example;en\r\n"                # 5: duplicate in file
        "V-999999;Hamburg;Fremd;Fritz;fritz@muster.example;de\r\n"                    # 6: unknown contract
        "V-200001;Hamburg;;Nora;kein-at-zeichen;fr\r\n"                               # 7: several at once
    )
    response = upload(client, text, headers=HTMX)
    assert response.status_code == 422
    html = response.text

    def errors(line):
        match = re.search(rf'id="import-line-{line}-errors">(.*?)</ul>', html, re.S)
        return match.group(1) if match else ""

    assert errors(2) == ""
    assert "Unbekannter Standort „Paris“" in errors(3)
    assert "anna.schmidt@muster.example" in errors(4) and "bereits" in errors(4)
    assert "Zeile 2" in errors(5)
    assert "Unbekannter Vertrag „V-999999“" in errors(6)
    assert "Namen" in errors(7) and "gültige E-Mail-Adresse" in errors(7) and "„de“ oder „en“" in errors(7)
    assert "nichts importiert" in html
    assert 'name="action" value="import"' not in html  # no import button for a file with errors
    assert profile_count(db_session) == before
    assert db_session.scalar(select(func.count()).select_from(MailMessage)) == mails_before  # no invitation


def test_not_enough_licences_marks_the_rows_beyond_the_free_ones(client, db_session):
    login(client, ADMIN)  # V-200001: 5 licences, 2 used
    text = HEADER + "".join(f"V-200001;Hamburg;Lizenz{n};Lea;lea{n}@muster.example;de\r\n" for n in range(4))
    response = upload(client, text, headers=HTMX)
    assert response.status_code == 422
    assert "3 freie UMS-Lizenzen, die Datei braucht 4" in response.text
    assert 'id="import-line-5-errors"' in response.text and 'id="import-line-4-errors"' not in response.text


def test_clean_file_imports_every_row_and_invites_after_the_commit(client, db_session):
    login(client, ADMIN)
    before = profile_count(db_session)
    text = HEADER + ("V-200001;Hamburg;Import;Ina;ina.import@muster.example;de\r\n"
                     "V-200001;Berlin Zentrale;Import;Ivo;ivo.import@muster.example;en\r\n")
    preview = upload(client, text, headers=HTMX)
    assert preview.status_code == 200
    assert "2 UMS-Profile werden angelegt" in preview.text
    content = re.search(r'name="content" value="([^"]+)"', preview.text).group(1)
    assert profile_count(db_session) == before  # the preview changed nothing

    done = client.post("/ums/import", data={"content": content, "action": "import"}, headers=HTMX)
    assert done.status_code == 204 and done.headers["HX-Redirect"] == "/ums"
    ina = db_session.scalar(select(UmsProfile).where(UmsProfile.email_normalized == "ina.import@muster.example"))
    assert ina.site.name == "Hamburg" and ina.language == "de"
    ivo = db_session.scalar(select(UmsProfile).where(UmsProfile.email_normalized == "ivo.import@muster.example"))
    assert ivo.language == "en"
    invitations = db_session.scalars(select(MailMessage).where(
        MailMessage.recipient.in_(["ina.import@muster.example", "ivo.import@muster.example"]))).all()
    assert len(invitations) == 2
    assert "2 UMS-Profile importiert" in client.get("/ums").text


def test_the_import_button_rechecks_and_imports_nothing_when_a_row_became_invalid(client, db_session):
    login(client, ADMIN)
    text = HEADER + ("V-200001;Hamburg;Spaet;Sina;sina@muster.example;de\r\n"
                     "V-200001;Hamburg;Spaet;Sven;sven@muster.example;de\r\n")
    content = re.search(r'name="content" value="([^"]+)"', upload(client, text, headers=HTMX).text).group(1)
    # meanwhile someone else creates a profile with one of the addresses
    from tests.routes.test_admin import new_profile_data
    client.post("/ums/profiles/new", data=new_profile_data(db_session, "sven@muster.example"))
    before = profile_count(db_session)
    again = client.post("/ums/import", data={"content": content, "action": "import"}, headers=HTMX)
    assert again.status_code == 422
    assert "sven@muster.example" in re.search(r'id="import-line-3-errors">(.*?)</ul>', again.text, re.S).group(1)
    assert profile_count(db_session) == before
    assert db_session.scalar(select(UmsProfile).where(UmsProfile.email_normalized == "sina@muster.example")) is None


@pytest.mark.parametrize("body, message", [
    (b"", "Bitte wählen Sie eine CSV-Datei"),
    (b"Name;Vorname\r\nA;B\r\n", "Spalte"),
    (b"\x00\x01\x02binary", "keine Textdatei"),
    (HEADER.encode(), "keine Zeilen"),
])
def test_unreadable_files_are_refused_with_the_reason(client, body, message):
    login(client, ADMIN)
    response = client.post("/ums/import", data={"file": (io.BytesIO(body), "x.csv")},
                           content_type="multipart/form-data", headers=HTMX)
    assert response.status_code == 422
    assert message in re.search(r'id="import-file-errors"[^>]*>(.*?)</small>', response.text, re.S).group(1)


def test_excel_cp1252_and_comma_files_are_read(client):
    login(client, ADMIN)
    text = "Vertrag;Standort;Nachname;Vorname;E-Mail\r\nV-200001;Hamburg;Müller-Lüdenscheidt;Jürgen;jl@muster.example\r\n"
    response = client.post("/ums/import", data={"file": (io.BytesIO(text.encode("cp1252")), "x.csv")},
                           content_type="multipart/form-data", headers=HTMX)
    assert response.status_code == 200 and "Müller-Lüdenscheidt" in response.text
    comma = text.replace(";", ",")
    assert upload(client, comma, headers=HTMX).status_code == 200


def test_import_is_refused_to_users_without_the_admin_area(client):
    login(client, "anna.schmidt@muster.example")
    assert client.get("/ums/import").status_code == 403
    assert upload(client, HEADER).status_code == 403


def test_thousand_rows_import_well_under_a_minute(client, db_session):
    """Measured: check and import of 1,000 rows (each with its invitation in the outbox)."""
    add_licences(db_session, 1000)
    login(client, ADMIN)
    text = HEADER + "".join(f"V-200001;Hamburg;Massen{n:04d};Mia;mia{n}@massen.example;de\r\n" for n in range(1000))
    started = time.perf_counter()
    preview = upload(client, text, headers=HTMX)
    checked = time.perf_counter() - started
    assert preview.status_code == 200, re.findall(r'row-outcome-error[^>]*>(.*?)</ul>', preview.text)[:3]
    content = re.search(r'name="content" value="([^"]+)"', preview.text).group(1)
    started = time.perf_counter()
    done = client.post("/ums/import", data={"content": content, "action": "import"}, headers=HTMX)
    imported = time.perf_counter() - started
    assert done.status_code == 204
    assert db_session.scalar(select(func.count()).select_from(UmsProfile)
                             .where(UmsProfile.email_normalized.like("%@massen.example"))) == 1000
    print(f"1,000 rows: check {checked:.1f} s, import {imported:.1f} s")
    assert checked < 10 and imported < 40  # "well under a minute", on a loaded test machine too


# --- sorting, page size, jump to a page -------------------------------------------------------------


def names_in(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/ums/profiles/\d+">([^<]+)</a>', html)


def test_sort_by_each_column_both_ways_kept_in_the_links(client, db_session):
    from tests.routes.test_admin import _add_profiles

    _add_profiles(db_session, 30)
    login(client, ADMIN)
    by_name = names_in(client.get("/ums?size=100").text)
    assert by_name == sorted(by_name, key=str.lower)
    assert names_in(client.get("/ums?size=100&dir=desc").text) == by_name[::-1]
    page = client.get("/ums?sort=email&dir=desc", headers=HTMX).text
    assert 'aria-sort="descending"' in page
    # the pages keep the order, the size and the search
    assert re.search(r'href="/ums\?sort=email&amp;dir=desc&amp;page=2"', page)
    access = client.get("/ums?sort=access&size=100").text
    states = re.findall(r'data-label="Zugang">(?:<span class="muted">)?([^<]+)', access)
    assert states == sorted(states, key=lambda s: s != "eingeladen, noch kein Passwort")
    from tests.routes.test_admin import new_profile_data
    add_licences(db_session, 1)
    client.post("/ums/profiles/new", data=new_profile_data(db_session, "hanna@muster.example", site="Hamburg",
                                                           last_name="Aaron"))
    sites = re.findall(r'data-label="Standort / Gruppe">([^<]+)</td>', client.get("/ums?sort=site&size=100").text)
    assert sites == sorted(sites, key=str.lower) and len(set(sites)) == 2  # Berlin Zentrale, then Hamburg
    sites_desc = re.findall(r'data-label="Standort / Gruppe">([^<]+)</td>',
                            client.get("/ums?sort=site&dir=desc&size=100").text)
    assert sites_desc == sites[::-1]
    assert client.get("/ums?sort=nonsense&dir=up").status_code == 200


def test_page_size_and_jump_to_a_page(client, db_session):
    from tests.routes.test_admin import _add_profiles

    _add_profiles(db_session, 30)  # 32 profiles
    login(client, ADMIN)
    assert len(names_in(client.get("/ums?size=10").text)) == 10
    page = client.get("/ums?size=10&page=4").text
    assert len(names_in(page)) == 2 and "Seite 4 von 4" in page
    assert 'id="page-number"' in page and 'max="4"' in page
    assert "Seite 4 von 4" in client.get("/ums?size=10&page=99").text  # beyond the end: the last page
    assert len(names_in(client.get("/ums?size=7").text)) == 25  # only the offered sizes
    # the filter form keeps sort and size (form-associated fields inside the list)
    assert re.search(r'<input type="hidden" name="size" value="10" form="profile-filters">', page)


def test_sorting_keeps_the_query_count(client, db_session, count_queries):  # noqa: F811
    from tests.routes.test_admin import _add_profiles

    login(client, ADMIN)
    client.get("/ums")
    count_queries.clear()
    client.get("/ums?sort=site&dir=desc&size=50")
    few = len(count_queries)
    _add_profiles(db_session, 60)
    for query in ("sort=site&dir=desc&size=50", "sort=access&size=100", "sort=email&page=2"):
        count_queries.clear()
        client.get(f"/ums?{query}")
        assert len(count_queries) == few, query


# --- a user's voicemail messages ----------------------------------------------------------------------


def test_voicemail_messages_export_with_the_lists_filters(client, db_session):
    from datetime import UTC, datetime

    from tests.services.test_voicemail import deposit

    anna = db_session.scalar(select(UmsProfile).where(UmsProfile.email == "anna.schmidt@muster.example"))
    deposit(db_session, caller="+4940999888", received_at=datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    deposit(db_session, caller=None, received_at=datetime(2026, 3, 12, 9, 0, tzinfo=UTC))
    login(client, "anna.schmidt@muster.example")
    page = client.get(f"/profiles/{anna.id}/voicemail?since=2026-03-10&until=2026-03-12").text
    link = re.search(r'href="(/profiles/\d+/voicemail/messages\.csv[^"]*)" download', page).group(1)
    assert "since=2026-03-10" in link and "until=2026-03-12" in link
    rows = read_csv(get(client, link.replace("&amp;", "&")))
    assert rows[0] == ["Eingegangen", "Anrufer", "Dauer", "Status"]
    assert rows[1:] == [["12.03.2026 10:00", "Unbekannt", "0:01", "neu"],
                        ["10.03.2026 10:00", "040 999888", "0:01", "neu"]]
    everything = read_csv(get(client, f"/profiles/{anna.id}/voicemail/messages.csv"))
    assert len(everything) > 3
    # someone else's voicemail: refused like the list
    other = client.application.test_client()
    login(other, "cf-admin@beispiel.example")
    assert other.get(f"/profiles/{anna.id}/voicemail/messages.csv").status_code in (403, 404)


def test_the_english_template_imports_too(client):
    login(client, ADMIN)
    client.post("/language", data={"lang": "en", "next": "/ums"})
    header = read_csv(get(client, "/ums/import/template.csv"))[0]
    assert header == ["Contract / enterprise", "Site / group", "Last name", "First name", "E-mail address", "Language"]
    text = ";".join(header) + "\r\nV-200001;Hamburg;English;Emma;emma.english@muster.example;en\r\n"
    response = upload(client, text, headers=HTMX)
    assert response.status_code == 200 and "1 UMS profile will be created" in response.text
