"""Rendered pages carry no attribute whose value is Python's None (WTForms writes it as text)."""

import re

import pytest
from sqlalchemy import select

from tests.conftest import login
from webapp.models import UmsProfile


@pytest.fixture
def anna_id(db_session):
    return db_session.scalar(select(UmsProfile.id).where(UmsProfile.email == "anna.schmidt@muster.example"))


def test_pages_have_no_none_attributes(client, anna_id):
    login(client, "admin@muster.example")
    paths = ["/ums", "/ums/profiles/new", f"/ums/profiles/{anna_id}", "/ums/audit",
             f"/profiles/{anna_id}/voicemail", f"/profiles/{anna_id}/voicemail?since=kein-datum&caller=x",
             f"/profiles/{anna_id}/voicemail/greetings", f"/profiles/{anna_id}/voicemail/settings",
             f"/profiles/{anna_id}/fax", f"/profiles/{anna_id}/conference", "/contracts"]
    for path in paths:
        page = client.get(path)
        assert page.status_code == 200, path
        assert '="None"' not in page.text, path


def test_invalid_filter_marks_its_field_and_others_stay_clean(client, anna_id):
    login(client, "anna.schmidt@muster.example")
    page = client.get(f"/profiles/{anna_id}/voicemail?since=kein-datum")
    since = re.search(r'<input[^>]*id="since"[^>]*>', page.text).group(0)
    assert 'aria-invalid="true"' in since and 'value=""' in since and 'aria-describedby="since-errors"' in since
    assert '="None"' not in page.text
