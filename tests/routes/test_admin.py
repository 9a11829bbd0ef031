"""UMS administration over HTTP: full page and partial, the htmx contract (422 with the error next
to the field, HX-Trigger, HX-Redirect when signed out, 403 on partial endpoints), who may do what,
and a list whose query count does not grow with the profiles."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import event, select

from tests.conftest import HTMX, login
from tests.querycount import MAX_LIST_STATEMENTS, statements_of
from webapp.models import (
    Contract,
    EmailChangeCode,
    Licence,
    MailMessage,
    PhoneNumber,
    Role,
    RoleGrant,
    Site,
    UmsProfile,
    User,
)

ADMIN = "admin@muster.example"


def profile_id(session, email_prefix):
    return session.scalar(select(UmsProfile.id).where(UmsProfile.email_normalized.like(email_prefix + "%")))


def ids(session, contract="V-200001", site="Berlin Zentrale"):
    c = session.scalar(select(Contract).where(Contract.number == contract))
    s = session.scalar(select(Site).where(Site.contract_id == c.id, Site.name == site))
    return c.id, s.id


def number_id(session, e164):
    return session.scalar(select(PhoneNumber.id).where(PhoneNumber.e164 == e164))


def new_profile_data(session, email, **kw):
    c, s = ids(session, kw.pop("contract", "V-200001"), kw.pop("site", "Berlin Zentrale"))
    return {"contract_id": c, "site_id": s, "last_name": "Neumann", "first_name": "Nora", "email": email,
            "language": "de", **kw}


def errors_of(html, field):
    match = re.search(rf'id="{field}-errors"[^>]*>(.*?)</', html, re.S)
    return match.group(1).strip() if match else None


# --- the list ----------------------------------------------------------------------------------------

def test_overview_full_page_shows_profiles_services_licences_and_plus(client):
    login(client, ADMIN)
    response = client.get("/ums")
    assert response.status_code == 200
    html = response.text
    assert "<h1>Unified Messaging</h1>" in html
    assert 'class="btn-plus" aria-label="Unified Messaging Profil anlegen"' in html
    assert re.search(r"V-200001 · Muster GmbH</th>\s*<td><span class=\"licence-line\"[^>]*>2 / 5", html)
    assert "Müller, Max" in html and "Schmidt, Anna" in html
    assert "030 1234567-10" in html and "030 1234567-20" in html
    assert 'id="profile-list"' in html and "Accept" not in response.headers.get("Vary", "")
    assert "HX-Request" in response.headers["Vary"]


def test_overview_partial_is_only_the_list_and_search_narrows_it(client):
    login(client, ADMIN)
    response = client.get("/ums?q=ANNA", headers=HTMX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith("<section id=\"profile-list\"") or \
        '<section id="profile-list"' in response.text[:400]
    assert "<html" not in response.text
    assert "Schmidt, Anna" in response.text and "Müller" not in response.text
    empty = client.get("/ums?q=nobody-here", headers=HTMX).text
    assert "Kein UMS-Profil passt" in empty


def test_history_restore_and_boosted_requests_get_the_full_page(client):
    login(client, ADMIN)
    restore = client.get("/ums?q=anna", headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text and 'value="anna"' in restore.text


def test_signed_out_htmx_gets_hx_redirect_and_plain_gets_login(client):
    response = client.get("/ums/profiles/new/sites?contract_id=1", headers=HTMX)
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")
    assert client.get("/ums/audit").status_code == 302


def test_ums_user_never_reaches_the_administration(client, db_session):
    login(client, "anna.schmidt@muster.example")
    anna = profile_id(db_session, "anna")
    for url in ("/ums", "/ums/profiles/new", f"/ums/profiles/{anna}", "/ums/audit"):
        response = client.get(url)
        assert response.status_code == 403, url
    partial = client.get(f"/ums/profiles/{anna}/services", headers=HTMX)
    assert partial.status_code == 403 and "<html" not in partial.text


def test_tenant_sees_the_avv_explanation_and_the_customer_with_avv(client, db_session):
    login(client, "mandant@nord.example")
    html = client.get("/ums").text
    assert "Auftragsverarbeitungsvertrag" in html and "K-100001" in html
    assert "Nordmann, Nina" in html and "Schmidt, Anna" not in html
    refused = client.get(f"/ums/profiles/{profile_id(db_session, 'anna')}", headers=HTMX)
    assert refused.status_code == 403 and "Auftragsverarbeitungsvertrag" in refused.text
    assert client.get(f"/ums/profiles/{profile_id(db_session, 'nina')}").status_code == 200
    c, _ = ids(db_session)
    assert client.get(f"/ums/profiles/new/sites?contract_id={c}", headers=HTMX).status_code == 403
    posted = client.post("/ums/profiles/new", data=new_profile_data(db_session, "x@muster.example"))
    assert posted.status_code == 403


def test_tenant_without_any_avv_is_told_why_on_every_admin_page(client, db_session):
    from tests import factories
    from webapp.models import Customer, TenantCustomer

    tenant = factories.tenant(db_session, "Mandant ohne AVV")
    factories.user(db_session, "ohne-avv@mandant.example", tenant_id=tenant.id)
    muster = db_session.scalar(select(Customer).where(Customer.number == "K-100001"))
    db_session.add(TenantCustomer(tenant_id=tenant.id, customer_id=muster.id))
    db_session.flush()
    login(client, "ohne-avv@mandant.example", "secret-password-1")
    for url in ("/ums", "/ums/profiles/new", "/ums/audit", f"/ums/profiles/{profile_id(db_session, 'anna')}"):
        response = client.get(url)
        assert "Auftragsverarbeitungsvertrag" in response.text, url
    assert client.get("/ums/profiles/new").status_code == 403
    assert client.get("/ums/audit", headers=HTMX).status_code == 403
    assert "Auftragsverarbeitungsvertrag" in client.get("/ums/audit", headers=HTMX).text


def test_reseller_sees_only_their_end_customer_and_the_missing_access_flag(client, db_session):
    login(client, "reseller@partner.example")
    html = client.get("/ums").text
    assert "Weber, Walter" in html and "V-200003" in html
    assert "V-200001" not in html and "Schmidt, Anna" not in html
    assert 'data-testid="awaiting-access-K-100003"' in html and "noch kein Passwort" in html
    # another customer's profile is outside the reseller's scope: 404, as for a free id
    assert client.get(f"/ums/profiles/{profile_id(db_session, 'anna')}").status_code == 404


def test_centraflex_admin_cannot_manage_an_ipfonie_customer(client, db_session):
    """Muster GmbH is not among the Centraflex admin's customers: its profiles are 404 to them,
    saying nothing about the customer or the product line."""
    login(client, "cf-admin@beispiel.example")
    anna = profile_id(db_session, "anna")
    assert client.get(f"/ums/profiles/{anna}").status_code == 404
    for method, url in (("get", f"/ums/profiles/{anna}/services/fax/numbers"),
                        ("post", f"/ums/profiles/{anna}/services/fax"),
                        ("post", f"/ums/profiles/{anna}/email/code"),
                        ("post", f"/ums/profiles/{anna}/invitation"),
                        ("post", f"/ums/profiles/{anna}/delete")):
        response = getattr(client, method)(url, headers=HTMX)
        assert response.status_code == 404, url
        assert "<html" not in response.text and "K-100001" not in response.text
    assert db_session.get(UmsProfile, anna) is not None


# --- create ---------------------------------------------------------------------------------------------

def test_create_form_full_page_and_site_region(client, db_session):
    login(client, ADMIN)
    html = client.get("/ums/profiles/new").text
    for label in ("Vertrag / Enterprise", "Standort / Gruppe", "Name", "Vorname", "E-Mail-Adresse", "Lizenz",
                  "Speichern"):
        assert label in html
    # a double click on „Speichern“ sends one create, not a second one refused as a duplicate
    assert 'hx-sync="this:drop"' in html and "hx-disabled-elt=\"find button[type='submit']\"" in html
    c, _ = ids(db_session)
    region = client.get(f"/ums/profiles/new/sites?contract_id={c}", headers=HTMX)
    assert region.status_code == 200 and region.text.lstrip().startswith("<")
    assert '<div id="site-field">' in region.text and "Hamburg" in region.text and "2 / 5" in region.text


def test_create_without_javascript_redirects_303_to_the_profile(client, db_session):
    login(client, ADMIN)
    response = client.post("/ums/profiles/new", data=new_profile_data(db_session, "Nora.Neu@Muster.example"))
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert "Unified Messaging Profil bearbeiten" in page.text and "nora.neu@muster.example" in page.text
    assert "Einladung wurde an nora.neu@muster.example gesendet" in page.text
    assert "3 / 5" in client.get("/ums").text


def test_create_with_htmx_answers_hx_redirect(client, db_session):
    login(client, ADMIN)
    response = client.post("/ums/profiles/new", data=new_profile_data(db_session, "hx@muster.example"),
                           headers=HTMX)
    assert response.status_code == 204
    assert re.fullmatch(r"/ums/profiles/\d+", response.headers["HX-Redirect"])


def test_taken_email_in_other_case_is_422_next_to_the_field_and_keeps_the_input(client, db_session):
    login(client, ADMIN)
    data = new_profile_data(db_session, "ANNA.Schmidt@muster.EXAMPLE", last_name="Doppelt")
    response = client.post("/ums/profiles/new", data=data, headers=HTMX)
    assert response.status_code == 422
    assert "<html" not in response.text and 'id="profile-form"' in response.text
    assert "bereits vergeben" in errors_of(response.text, "email")
    assert 'value="Doppelt"' in response.text and 'value="ANNA.Schmidt@muster.EXAMPLE"' in response.text
    full = client.post("/ums/profiles/new", data=data)
    assert full.status_code == 422 and "<html" in full.text and errors_of(full.text, "email")


def test_missing_fields_are_422_with_each_error_next_to_its_field(client, db_session):
    login(client, ADMIN)
    data = new_profile_data(db_session, "", last_name="", first_name="")
    response = client.post("/ums/profiles/new", data=data, headers=HTMX)
    assert response.status_code == 422
    assert errors_of(response.text, "last_name") == "Bitte geben Sie den Namen ein."
    assert errors_of(response.text, "first_name") == "Bitte geben Sie den Vornamen ein."
    assert errors_of(response.text, "email")


def test_exhausted_licences_are_refused_with_what_to_do(client, db_session):
    login(client, ADMIN)
    for n in range(3):
        assert client.post("/ums/profiles/new",
                           data=new_profile_data(db_session, f"fill{n}@muster.example")).status_code == 303
    response = client.post("/ums/profiles/new", data=new_profile_data(db_session, "late@muster.example"),
                           headers=HTMX)
    assert response.status_code == 422
    assert "Nachbestellung" in errors_of(response.text, "licence")
    assert db_session.scalar(select(User).where(User.email == "late@muster.example")) is None


def test_site_choices_reload_without_javascript(client, db_session):
    login(client, ADMIN)
    c, _ = ids(db_session)
    html = client.get(f"/ums/profiles/new?contract_id={c}&last_name=Keep&email=k@muster.example").text
    assert 'value="Keep"' in html and "Berlin Zentrale" in html


# --- edit ------------------------------------------------------------------------------------------------

def test_edit_page_full_and_details_partial(client, db_session):
    login(client, ADMIN)
    anna = profile_id(db_session, "anna")
    html = client.get(f"/ums/profiles/{anna}").text
    assert "Unified Messaging Profil bearbeiten" in html
    assert "Code anfordern, um die E-Mail-Adresse zu ändern" in html
    for label in ("Fax", "Anrufbeantworter", "Konferenz"):
        assert f">{label}</h3>" in html
    assert "Profil löschen" in html
    partial = client.get(f"/ums/profiles/{anna}", headers=HTMX).text
    assert partial.lstrip().startswith('<section id="profile-details"')


def test_edit_names_htmx_returns_region_with_trigger(client, db_session):
    login(client, ADMIN)
    max_ = profile_id(db_session, "max")
    response = client.post(f"/ums/profiles/{max_}", data={"last_name": "Meier", "first_name": "Max"},
                           headers=HTMX)
    assert response.status_code == 200
    trigger = json.loads(response.headers["HX-Trigger"])
    assert trigger["toast"] == "Änderungen gespeichert." and trigger["profile-changed"] is True
    assert 'value="Meier"' in response.text
    plain = client.post(f"/ums/profiles/{max_}", data={"last_name": "Meier", "first_name": "Maximilian"})
    assert plain.status_code == 303 and plain.headers["Location"] == f"/ums/profiles/{max_}"


def test_edit_with_empty_name_is_422(client, db_session):
    login(client, ADMIN)
    max_ = profile_id(db_session, "max")
    response = client.post(f"/ums/profiles/{max_}", data={"last_name": " ", "first_name": "Max"}, headers=HTMX)
    assert response.status_code == 422 and errors_of(response.text, "last_name")
    assert db_session.get(UmsProfile, max_).last_name == "Müller"


def test_site_cannot_change_while_numbers_are_assigned(client, db_session):
    login(client, ADMIN)
    anna = profile_id(db_session, "anna")
    _, hamburg = ids(db_session, site="Hamburg")
    html = client.get(f"/ums/profiles/{anna}").text
    assert re.search(r'<select[^>]*disabled[^>]*id="site_id"', html)
    response = client.post(f"/ums/profiles/{anna}",
                           data={"last_name": "Schmidt", "first_name": "Anna", "site_id": hamburg}, headers=HTMX)
    assert response.status_code == 422
    assert "Rufnummern gehören zum Standort" in errors_of(response.text, "site_id")


def test_resend_invitation_region(client, db_session):
    login(client, "reseller@partner.example")
    walter = profile_id(db_session, "walter")
    response = client.post(f"/ums/profiles/{walter}/invitation", headers=HTMX)
    assert response.status_code == 200 and response.text.lstrip().startswith('<section id="invitation"')
    assert "walter.weber@weber.example" in json.loads(response.headers["HX-Trigger"])["toast"]
    assert db_session.scalar(select(MailMessage).where(MailMessage.recipient == "walter.weber@weber.example"))


# --- numbers ---------------------------------------------------------------------------------------------

def test_assign_and_release_with_htmx(client, db_session):
    login(client, ADMIN)
    max_ = profile_id(db_session, "max")
    response = client.post(f"/ums/profiles/{max_}/services/fax",
                           data={"number_id": number_id(db_session, "+4930123456733")}, headers=HTMX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="profile-services"')
    assert re.search(r'data-testid="number-fax">\s*<strong class="number">030 1234567-33', response.text)
    trigger = json.loads(response.headers["HX-Trigger"])
    assert trigger["numbers-changed"] is True and "030 1234567-33" in trigger["toast"]
    released = client.post(f"/ums/profiles/{max_}/services/fax/release", headers=HTMX)
    assert released.status_code == 200
    assert re.search(r'data-testid="number-fax">\s*<span class="muted">Keine Rufnummer', released.text)


def test_a_number_in_use_is_not_offered_and_refused_if_posted(client, db_session):
    login(client, ADMIN)
    max_ = profile_id(db_session, "max")
    options = client.get(f"/ums/profiles/{max_}/services/fax/numbers?nq=1", headers=HTMX).text
    assert options.lstrip().startswith('<div id="number-select-fax">') or 'id="number-select-fax"' in options
    assert "030 1234567-1<" in options and "030 1234567-10<" not in options and "030 1234567-13<" in options
    response = client.post(f"/ums/profiles/{max_}/services/fax",
                           data={"number_id": number_id(db_session, "+4930123456710")}, headers=HTMX)
    assert response.status_code == 409
    assert "dient bereits einem anderen Dienst" in errors_of(response.text, "number-fax")
    missing = client.post(f"/ums/profiles/{max_}/services/fax", data={}, headers=HTMX)
    assert missing.status_code == 422 and errors_of(missing.text, "number-fax")


def test_assign_without_javascript_redirects(client, db_session):
    login(client, ADMIN)
    max_ = profile_id(db_session, "max")
    response = client.post(f"/ums/profiles/{max_}/services/conference",
                           data={"number_id": number_id(db_session, "+4930123456740")})
    assert response.status_code == 303
    assert "030 1234567-40" in client.get(response.headers["Location"]).text


# --- e-mail change ------------------------------------------------------------------------------------------

def test_email_change_by_code_over_http(client, db_session):
    login(client, ADMIN)
    max_ = profile_id(db_session, "max")
    response = client.post(f"/ums/profiles/{max_}/email/code", headers=HTMX)
    assert response.status_code == 200 and "Code eingeben, um die E-Mail-Adresse zu ändern" in response.text
    assert "max.mueller@muster.example" in json.loads(response.headers["HX-Trigger"])["toast"]
    body = db_session.scalar(select(MailMessage.body_text).where(MailMessage.recipient == "max.mueller@muster.example")
                             .order_by(MailMessage.id.desc()))
    code = re.search(r"\b(\d{6})\b", body).group(1)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    refused = client.post(f"/ums/profiles/{max_}/email/verify", data={"code": wrong}, headers=HTMX)
    assert refused.status_code == 422 and "Noch 4 Versuche" in errors_of(refused.text, "code")
    db_session.expire_all()
    # the wrong try is kept although the request was refused
    assert db_session.scalar(select(EmailChangeCode.failed_attempts)
                             .where(EmailChangeCode.profile_id == max_)) == 1
    short = client.post(f"/ums/profiles/{max_}/email/verify", data={"code": "12"}, headers=HTMX)
    assert short.status_code == 422 and errors_of(short.text, "code") == "Der Code hat 6 Ziffern."
    ok = client.post(f"/ums/profiles/{max_}/email/verify", data={"code": code}, headers=HTMX)
    assert ok.status_code == 200 and "Neue E-Mail-Adresse" in ok.text
    taken = client.post(f"/ums/profiles/{max_}/email", data={"email": "Anna.Schmidt@muster.example"}, headers=HTMX)
    assert taken.status_code == 422 and "bereits vergeben" in errors_of(taken.text, "email")
    done = client.post(f"/ums/profiles/{max_}/email", data={"email": "max.m@muster.example"}, headers=HTMX)
    assert done.status_code == 200 and "max.m@muster.example" in done.text
    client.post("/logout")
    assert client.post("/login", data={"email": "max.m@muster.example",
                                       "password": "demo-user-2026"}).status_code == 302


# --- delete ----------------------------------------------------------------------------------------------

def test_delete_confirmation_names_what_is_lost_then_deletes(client, db_session):
    login(client, ADMIN)
    anna = profile_id(db_session, "anna")
    page = client.get(f"/ums/profiles/{anna}/delete").text
    assert "V-200001" in page and "030 1234567-10" in page and "Sprachnachrichten" in page
    response = client.post(f"/ums/profiles/{anna}/delete")
    assert response.status_code == 303 and response.headers["Location"] == "/ums"
    assert db_session.get(UmsProfile, anna) is None
    assert "1 / 5" in client.get("/ums").text


# --- audit trail -----------------------------------------------------------------------------------------

def test_audit_trail_lists_and_filters_service_written_entries(client, db_session):
    login(client, ADMIN)
    client.post("/ums/profiles/new", data=new_profile_data(db_session, "audit.me@muster.example"))
    max_ = profile_id(db_session, "max")
    client.post(f"/ums/profiles/{max_}/services/fax", data={"number_id": number_id(db_session, "+4930123456750")})
    page = client.get("/ums/audit").text
    assert "Profil angelegt" in page and "Rufnummer zugewiesen" in page and "admin@muster.example" in page
    only = client.get("/ums/audit?action=number.assigned", headers=HTMX)
    assert only.status_code == 200 and "<html" not in only.text
    assert "Rufnummer zugewiesen" in only.text and "audit.me@muster.example" not in only.text
    by_profile = client.get(f"/ums/audit?profile={max_}").text
    assert "audit.me@muster.example" not in by_profile.split('id="audit-list"')[1]
    # another customer's admin sees none of it
    client.post("/logout")
    login(client, "cf-admin@beispiel.example")
    assert "audit.me@muster.example" not in client.get("/ums/audit").text


# --- query count -----------------------------------------------------------------------------------------

@pytest.fixture
def count_queries(app):
    engine = app.extensions["db"].engine
    statements: list[str] = []

    def _count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    yield statements
    event.remove(engine, "before_cursor_execute", _count)


def _add_profiles(session, count):
    from webapp.services import demo

    contract = session.scalar(select(Contract).where(Contract.number == "V-200001"))
    session.add_all(Licence(contract_id=contract.id) for _ in range(count))
    session.flush()
    site = contract.sites[0]
    free = iter(session.scalars(select(PhoneNumber).where(PhoneNumber.site_id == site.id,
                                                          PhoneNumber.e164.like("+49301234567_"))))
    from webapp.models import Service

    for n in range(count):
        number = next(free, None)
        demo.add_profile(session, contract, site, f"Vor{n}", f"Bulk{n:03d}", f"bulk{n}@muster.example", None,
                         {Service.FAX: number.e164} if number else None)
    session.commit()


def test_list_query_count_does_not_grow_with_profiles(client, db_session, count_queries):
    login(client, ADMIN)
    client.get("/ums")
    count_queries.clear()
    assert client.get("/ums").status_code == 200
    with_two = len(count_queries)
    _add_profiles(db_session, 40)
    count_queries.clear()
    response = client.get("/ums")
    assert response.text.count('<th scope="row"><a href="/ums/profiles/') == 25
    assert len(count_queries) == with_two, "\n".join(count_queries)
    count_queries.clear()
    client.get("/ums?page=2&q=bulk")
    assert len(count_queries) == with_two
    assert with_two <= MAX_LIST_STATEMENTS, "\n".join(count_queries)


@pytest.mark.parametrize("email", [ADMIN, "mandant@nord.example", "reseller@partner.example",
                                   "cf-admin@beispiel.example"])
def test_list_in_few_statements_for_every_kind_of_admin(client, db_session, engine, email):
    """Tenant staff (AVV check) and reseller staff (awaiting access) included, page and fragment."""
    _add_profiles(db_session, 30)
    login(client, email)
    client.get("/ums")
    for url in ("/ums", "/ums?page=2", "/ums?q=bulk"):
        for headers in (HTMX, {}):
            statements = statements_of(client, engine, url, headers)
            assert len(statements) <= MAX_LIST_STATEMENTS, (url, headers, "\n".join(statements))


def test_admin_grant_without_manage_is_refused_with_reason(client, db_session):
    # a back-office user reaches no part of the UMS administration
    login(client, "betrieb@carrier.example")
    response = client.get("/ums", headers=HTMX)
    assert response.status_code == 403
    assert db_session.scalar(select(RoleGrant).where(RoleGrant.role == Role.BACK_OFFICE))


# --- keyboard and screen readers ------------------------------------------------------------------------

def test_active_search_results_are_announced_in_a_live_region_that_keeps_its_place(client):
    login(client, ADMIN)
    html = client.get("/ums?q=schmidt", headers=HTMX).get_data(as_text=True)
    status = re.search(r'<p id="profile-list-status"[^>]*>(.*?)</p>', html, re.S)
    assert status and "1 UMS-Profil gefunden." in status.group(1)
    assert 'role="status"' in status.group(0) and 'hx-swap-oob="innerHTML"' in status.group(0)
    page = client.get("/ums").get_data(as_text=True)
    assert page.count('id="profile-list-status"') == 1  # the full page has it once, outside the list
    audit = client.get("/ums/audit?q=zzz-nobody", headers=HTMX).get_data(as_text=True)
    assert re.search(r'id="audit-list-status"[^>]*hx-swap-oob="innerHTML">0 Einträge gefunden.', audit)


def test_free_number_search_announces_how_many_match(client, db_session):
    login(client, ADMIN)
    pid = profile_id(db_session, "max.mueller")
    html = client.get(f"/ums/profiles/{pid}/services/fax/numbers?nq=1234567-3", headers=HTMX).get_data(as_text=True)
    assert re.search(r'<span id="number-status-fax" hx-swap-oob="innerHTML">\d+ freie Rufnummern? pass', html)
    page = client.get(f"/ums/profiles/{pid}").get_data(as_text=True)
    assert page.count('id="number-status-fax"') == 1


def test_after_a_refusal_the_first_field_in_error_takes_the_focus(client, db_session):
    login(client, ADMIN)
    data = new_profile_data(db_session, "ANNA.Schmidt@muster.example", first_name="")
    html = client.post("/ums/profiles/new", data=data, headers=HTMX).get_data(as_text=True)
    assert re.search(r'<input[^>]*autofocus[^>]*id="first_name"|<input[^>]*id="first_name"[^>]*autofocus', html)
    assert html.count("autofocus") == 1
    data = new_profile_data(db_session, "ANNA.Schmidt@muster.example")
    html = client.post("/ums/profiles/new", data=data, headers=HTMX).get_data(as_text=True)
    assert re.search(r'<input[^>]*id="email"[^>]*autofocus|<input[^>]*autofocus[^>]*id="email"', html)
    assert "autofocus" not in client.get("/ums/profiles/new").get_data(as_text=True)


def test_too_many_code_requests_are_refused_in_the_email_region(client, db_session):
    from webapp.services import email_change

    login(client, ADMIN)
    max_ = profile_id(db_session, "max")
    for _ in range(email_change.MAX_REQUESTS):
        assert client.post(f"/ums/profiles/{max_}/email/code", headers=HTMX).status_code == 200
    refused = client.post(f"/ums/profiles/{max_}/email/code", headers=HTMX)
    assert refused.status_code == 422
    assert refused.text.lstrip().startswith('<section id="email-change"')
    assert "letzten Stunde" in errors_of(refused.text, "request")
    assert "Code eingeben, um die E-Mail-Adresse zu ändern" in refused.text  # the code sent still works


def test_focus_moves_to_what_comes_next_when_the_pressed_button_is_gone(client, db_session):
    login(client, ADMIN)
    max_ = profile_id(db_session, "max")
    requested = client.post(f"/ums/profiles/{max_}/email/code", headers=HTMX).text
    assert re.search(r'<input[^>]*autofocus[^>]*id="code"|<input[^>]*id="code"[^>]*autofocus', requested)
    assert "autofocus" not in client.get(f"/ums/profiles/{max_}").text  # never on a plain page load
    released = client.post(f"/ums/profiles/{max_}/services/voicemail/release", headers=HTMX).text
    assert re.search(r'id="undo-voicemail"[^>]*autofocus', released, re.S)  # the undo offer
    assigned = client.post(f"/ums/profiles/{max_}/services/fax", headers=HTMX,
                           data={"number_id": number_id(db_session, "+4930123456750")}).text
    assert 'id="assign-fax"' in assigned and "autofocus" not in assigned  # htmx keeps the focus by id
