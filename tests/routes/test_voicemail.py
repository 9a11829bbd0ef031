"""Voicemail pages: full page and partial, the htmx contract, audio with Range, access."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import HTMX, login
from tests.services.test_audio import tone
from tests.services.test_voicemail import anna, deposit, profile_by_email
from webapp.models import GreetingKind, VoicemailMessage
from webapp.services import voicemail as vm

ANNA = "anna.schmidt@muster.example"


@pytest.fixture
def profile(db_session):
    return anna(db_session)


@pytest.fixture
def as_anna(client):
    return login(client, ANNA)


@pytest.fixture
def anna_en(as_anna):
    """Anna with the English interface, for assertions on the texts."""
    as_anna.post("/language", data={"lang": "en", "next": "/"})
    return as_anna


def base(profile) -> str:
    return f"/profiles/{profile.id}/voicemail"


def fresh(db_session, model, ident):
    """The row as the request left it (requests use sessions of their own)."""
    db_session.expire_all()
    return db_session.get(model, ident)


def trigger(response) -> dict:
    return json.loads(response.headers["HX-Trigger"])


# --- pages and partials -----------------------------------------------------------------------


@pytest.mark.parametrize("page", ["", "/settings", "/greetings"])
def test_full_page_and_partial(as_anna, profile, page):
    full = as_anna.get(base(profile) + page)
    assert full.status_code == 200
    assert "<html" in full.text and "Anrufbeantworter" in full.text
    assert "HX-Request" in full.headers["Vary"]
    partial = as_anna.get(base(profile) + page, headers=HTMX)
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert re.match(r'\s*(<section id="vm-(messages|settings|greetings)")', partial.text.split("\n", 3)[-1]) or \
        'id="vm-' in partial.text[:400]


def test_pages_carry_no_inline_script_so_the_csp_can_forbid_them(as_anna, profile):
    for page in ("", "/greetings", "/settings"):
        html = as_anna.get(base(profile) + page).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), page
        assert re.search(r"/static/voicemail\.[0-9a-f]{12}\.js", html), page  # content-hashed name


def test_messages_page_lists_newest_first_with_caller_and_unknown(as_anna, profile):
    page = as_anna.get(base(profile)).text
    assert "040 123456789" in page  # the demo's first caller, national format
    assert page.index("040 123456789") < page.index("030 98765432")
    assert "Unbekannt" in page
    assert 'id="vm-nav-badge"' in page  # the navigation badge


def test_navigation_badge_shows_new_messages(as_anna, db_session, profile):
    count = vm.new_count(db_session, profile.id)
    page = as_anna.get("/me").text
    badge = re.search(r'<span id="vm-nav-badge">(.*?)</span></span>', page, re.S).group(1)
    assert f">{count}<" in badge


def test_signed_out_htmx_request_gets_hx_redirect(client, profile):
    response = client.get(base(profile), headers=HTMX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


@pytest.mark.parametrize("path", ["", "/settings", "/greetings", "/messages/1/audio"])
def test_another_ums_user_gets_404_also_on_partials(client, db_session, profile, path):
    """Another user's profile is outside a UMS user's scope: not found, nothing about it told."""
    login(client, "max.mueller@muster.example", "demo-user-2026")
    response = client.get(base(profile) + path, headers=HTMX)
    assert response.status_code == 404
    assert "Anna" not in response.text


def test_admin_uses_the_voicemail_of_a_profile_they_manage(client, profile):
    login(client, "admin@muster.example")
    assert client.get(base(profile)).status_code == 200
    assert client.get(base(profile), headers=HTMX).status_code == 200


def test_tenant_without_avv_is_refused(client, profile):
    login(client, "mandant@nord.example")
    assert client.get(base(profile)).status_code == 403


# --- messages ---------------------------------------------------------------------------------


def test_audio_supports_range_and_does_not_mark_heard(as_anna, db_session, profile):
    message = deposit(db_session, data=tone("wav", 2.0))
    url = f"{base(profile)}/messages/{message.id}/audio"
    whole = as_anna.get(url)
    assert whole.status_code == 200 and whole.mimetype == "audio/mpeg"
    assert whole.headers["Accept-Ranges"] == "bytes"
    ranged = as_anna.get(url, headers={"Range": "bytes=100-199"})
    assert ranged.status_code == 206
    assert ranged.headers["Content-Range"] == f"bytes 100-199/{len(whole.data)}"
    assert ranged.data == whole.data[100:200]
    assert fresh(db_session, VoicemailMessage, message.id).heard_at is None
    # Converted once and kept: the same copy again.
    assert as_anna.get(url).data == whole.data


def test_download_name_and_absence_dates_follow_berlin_time(as_anna, db_session, profile):
    from datetime import UTC, date, datetime

    from webapp.models import GreetingSource

    message = deposit(db_session, received_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    response = as_anna.get(f"{base(profile)}/messages/{message.id}/download")
    assert "anrufbeantworter_2026-12-01_00-30.wav" in response.headers["Content-Disposition"]
    draft = vm.create_draft(db_session, None, profile, GreetingKind.ABSENCE, GreetingSource.UPLOAD,
                            data=tone("flac", 1.5), absence_from=date(2026, 12, 1), absence_until=date(2026, 12, 24))
    preview = as_anna.get(f"{base(profile)}/greetings").text
    assert "01.12.2026 – 24.12.2026" in preview  # the preview shows the period it will bring
    vm.activate_greeting(db_session, None, profile, draft.id)
    page = as_anna.get(f"{base(profile)}/greetings").text
    assert "01.12.2026 – 24.12.2026" in page


def test_download_is_the_telephony_wav(as_anna, db_session, profile):
    message = deposit(db_session)
    response = as_anna.get(f"{base(profile)}/messages/{message.id}/download")
    assert response.status_code == 200
    assert response.mimetype == "audio/wav"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data[:4] == b"RIFF"


def test_mark_heard_swaps_the_row_with_counters_out_of_band(as_anna, db_session, profile):
    message = deposit(db_session)
    before = vm.new_count(db_session, profile.id)
    response = as_anna.post(f"{base(profile)}/messages/{message.id}/heard", headers=HTMX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<tr id="vm-msg-{message.id}"')
    assert "Mark as new" in response.text or "Als neu markieren" in response.text
    assert 'id="vm-new-count" hx-swap-oob="true"' in response.text
    assert 'id="vm-nav-badge" hx-swap-oob="true"' in response.text
    assert f">{before - 1}<" in response.text
    assert "toast" in trigger(response)
    assert fresh(db_session, VoicemailMessage, message.id).heard_at is not None

    again = as_anna.post(f"{base(profile)}/messages/{message.id}/new", headers=HTMX)
    assert again.status_code == 200
    assert fresh(db_session, VoicemailMessage, message.id).heard_at is None


def test_plain_form_post_redirects_back_to_the_list_state(as_anna, db_session, profile):
    message = deposit(db_session)
    response = as_anna.post(f"{base(profile)}/messages/{message.id}/heard", data={"show": "new", "page": "1"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{base(profile)}?show=new")


def test_delete_offers_undo_and_restore_brings_it_back(as_anna, db_session, profile):
    message = deposit(db_session)
    response = as_anna.post(f"{base(profile)}/messages/{message.id}/delete", headers=HTMX)
    assert response.status_code == 200
    assert f'id="vm-msg-{message.id}"' not in response.text
    assert f'name="ids" value="{message.id}"' in response.text  # the undo form
    restored = as_anna.post(f"{base(profile)}/messages/restore", data={"ids": str(message.id)}, headers=HTMX)
    assert restored.status_code == 200
    assert f'id="vm-msg-{message.id}"' in restored.text
    assert trigger(restored)["toast"] == "1 Nachricht wiederhergestellt."  # singular, not „1 Nachrichten“


def test_plain_delete_redirects_with_undo(as_anna, db_session, profile):
    message = deposit(db_session)
    response = as_anna.post(f"{base(profile)}/messages/{message.id}/delete")
    assert response.status_code == 303
    page = as_anna.get(response.headers["Location"]).text
    assert f'name="ids" value="{message.id}"' in page


def test_bulk_heard_and_delete(as_anna, db_session, profile):
    one, two = deposit(db_session), deposit(db_session)
    response = as_anna.post(f"{base(profile)}/messages/bulk", data={"ids": [one.id, two.id], "action": "heard"},
                            headers=HTMX)
    assert response.status_code == 200
    assert fresh(db_session, VoicemailMessage, one.id).heard_at and fresh(db_session, VoicemailMessage, two.id).heard_at
    response = as_anna.post(f"{base(profile)}/messages/bulk", data={"ids": [one.id, two.id], "action": "delete"},
                            headers=HTMX)
    assert response.status_code == 200 and "2" in trigger(response)["toast"]
    assert fresh(db_session, VoicemailMessage, one.id).deleted_at is not None
    nothing = as_anna.post(f"{base(profile)}/messages/bulk", data={"action": "delete"}, headers=HTMX)
    assert nothing.status_code == 422


def test_filter_search_and_pagination_partial(as_anna, db_session, profile):
    for _ in range(vm.PAGE_SIZE + 1):
        deposit(db_session, caller="+4989777888")
    found = as_anna.get(base(profile), query_string={"caller": "089 777"}, headers=HTMX)
    assert found.status_code == 200
    assert found.text.count('<tr id="vm-msg-') == vm.PAGE_SIZE
    assert "rel=\"next\"" in found.text
    second = as_anna.get(base(profile), query_string={"caller": "089 777", "page": 2}, headers=HTMX)
    assert second.text.count('<tr id="vm-msg-') == 1 and 'rel="prev"' in second.text
    none = as_anna.get(base(profile), query_string={"caller": "0170 000"}, headers=HTMX)
    assert '<tr id="vm-msg-' not in none.text


def test_a_filter_that_cannot_be_used_says_why_next_to_the_field(anna_en, profile):
    response = anna_en.get(base(profile), query_string={"since": "2026-13-45", "caller": "1" * 41}, headers=HTMX)
    assert response.status_code == 200
    assert re.search(r'id="since-errors"[^>]*role="alert">Not a valid date', response.text)
    assert 'id="caller-errors"' in response.text
    backwards = anna_en.get(base(profile), query_string={"since": "2026-03-12", "until": "2026-03-11"}, headers=HTMX)
    assert re.search(r'id="until-errors"[^>]*role="alert">The end of the period must not be before its start',
                     backwards.text)
    for day in ("0001-01-01", "9999-12-31"):  # the calendar's edges, in Berlin time: no overflow
        for key in ("day", "since", "until"):
            edge = anna_en.get(base(profile), query_string={key: day}, headers=HTMX)
            assert edge.status_code == 200 and 'id="vm-messages"' in edge.text


def test_someone_elses_message_is_404(as_anna, db_session, profile):
    theirs = deposit(db_session, "+4930123456720")
    assert as_anna.get(f"{base(profile)}/messages/{theirs.id}/audio").status_code == 404
    assert as_anna.post(f"{base(profile)}/messages/{theirs.id}/heard", headers=HTMX).status_code in (200, 404)
    assert fresh(db_session, VoicemailMessage, theirs.id).heard_at is None


@pytest.mark.parametrize("path", ["/messages/99999999999999999999/audio", "/greetings/99999999999999999999/audio"])
def test_ids_too_large_for_the_database_are_404(as_anna, profile, path):
    assert as_anna.get(base(profile) + path).status_code == 404
    assert as_anna.get("/profiles/99999999999999999999/voicemail").status_code == 404


def test_bulk_with_garbage_ids_is_refused_in_the_list(anna_en, profile):
    response = anna_en.post(f"{base(profile)}/messages/bulk", headers=HTMX,
                            data={"action": "delete", "ids": "abc,-1,99999999999999999999"})
    assert response.status_code == 422
    assert 'id="vm-messages"' in response.text and "Select at least one message" in response.text


def test_deleting_someone_elses_or_a_deleted_message_says_it_is_not_there(anna_en, db_session, profile):
    theirs = deposit(db_session, "+4930123456720")
    response = anna_en.post(f"{base(profile)}/messages/{theirs.id}/delete", headers=HTMX)
    assert response.status_code == 404
    assert "does not exist" in trigger(response)["toast"] and "undo" not in response.text.lower()
    assert fresh(db_session, VoicemailMessage, theirs.id).deleted_at is None
    mine = deposit(db_session)
    assert anna_en.post(f"{base(profile)}/messages/{mine.id}/delete", headers=HTMX).status_code == 200
    assert anna_en.post(f"{base(profile)}/messages/{mine.id}/delete", headers=HTMX).status_code == 404


def test_a_refused_list_action_keeps_the_list_and_says_why_in_it(anna_en, db_session, profile):
    from datetime import timedelta

    from webapp.models import utcnow

    message = deposit(db_session)
    vm.delete_messages(db_session, None, profile, [message.id])
    message.deleted_at = utcnow() - timedelta(seconds=vm.UNDO_SECONDS + 60)
    db_session.flush()
    late = anna_en.post(f"{base(profile)}/messages/restore", data={"ids": str(message.id)}, headers=HTMX)
    assert late.status_code == 422
    # The list stays (the error is shown in it), whatever element the action targeted.
    assert late.headers["HX-Retarget"] == "#vm-messages"
    assert late.text.lstrip().startswith('<section id="vm-messages"')
    assert re.search(r'role="alert">[^<]*can no longer be restored', late.text)
    gone = anna_en.post(f"{base(profile)}/messages/{message.id}/heard", headers=HTMX)
    assert gone.status_code == 404 and gone.headers["HX-Retarget"] == "#vm-messages"
    assert 'id="vm-messages"' in gone.text and "does not exist" in gone.text
    unknown = anna_en.post(f"{base(profile)}/messages/bulk", data={"ids": "1", "action": "zap"}, headers=HTMX)
    assert unknown.status_code == 422 and 'id="vm-messages"' in unknown.text
    plain = anna_en.post(f"{base(profile)}/messages/restore", data={"ids": str(message.id)})
    assert plain.status_code == 303
    assert "can no longer be restored" in anna_en.get(plain.headers["Location"]).text


# --- settings and PIN -------------------------------------------------------------------------


SETTINGS = {"enabled": "y", "answer": "after", "answer_after_seconds": "25", "mode": "record",
            "max_message_seconds": "90", "notify_target": "profile", "notify_address": ""}


def test_settings_save_with_toast(as_anna, db_session, profile):
    response = as_anna.post(f"{base(profile)}/settings", data={**SETTINGS, "notify_email": "y"}, headers=HTMX)
    assert response.status_code == 200
    assert "toast" in trigger(response)
    assert response.text.lstrip().startswith('<section id="vm-settings"')
    saved = vm.settings_of(db_session, profile)
    assert (saved.answer_after_seconds, saved.max_message_seconds, saved.notify_email) == (25, 90, True)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"answer_after_seconds": "3"}, "answer_after_seconds"),
        ({"max_message_seconds": "301"}, "max_message_seconds"),
        ({"delete_after_send": "y"}, "delete_after_send"),
        ({"notify_target": "other", "notify_address": ""}, "notify_address"),
        ({"notify_target": "other", "notify_address": "not-an-address"}, "notify_address"),
    ],
)
def test_settings_errors_are_422_next_to_the_field(as_anna, db_session, profile, changes, field):
    before = vm.settings_of(db_session, profile).max_message_seconds
    response = as_anna.post(f"{base(profile)}/settings", data={**SETTINGS, **changes}, headers=HTMX)
    assert response.status_code == 422
    assert f'id="{field}-errors"' in response.text and 'role="alert"' in response.text
    assert vm.settings_of(db_session, profile).max_message_seconds == before


def test_answering_at_once_ignores_the_seconds_as_the_page_says(as_anna, db_session, profile):
    from webapp.models import VoicemailSettings

    as_anna.post(f"{base(profile)}/settings", data={**SETTINGS, "answer_after_seconds": "35"}, headers=HTMX)
    for seconds in ("", "999"):
        response = as_anna.post(f"{base(profile)}/settings", headers=HTMX,
                                data={**SETTINGS, "answer": "immediately", "answer_after_seconds": seconds})
        assert response.status_code == 200
        saved = fresh(db_session, VoicemailSettings, profile.id)
        assert saved.answer_immediately and saved.answer_after_seconds == 35


def test_pin_form_rules_and_never_shown_again(as_anna, db_session, profile):
    bad = as_anna.post(f"{base(profile)}/pin", data={"pin": "123456", "pin_confirm": "123456"}, headers=HTMX)
    assert bad.status_code == 422 and 'id="pin-errors"' in bad.text
    assert 'value="123456"' not in bad.text
    mismatch = as_anna.post(f"{base(profile)}/pin", data={"pin": "394817", "pin_confirm": "394818"}, headers=HTMX)
    assert mismatch.status_code == 422 and 'id="pin_confirm-errors"' in mismatch.text
    good = as_anna.post(f"{base(profile)}/pin", data={"pin": "394817", "pin_confirm": "394817"}, headers=HTMX)
    assert good.status_code == 200 and "toast" in trigger(good)
    assert "394817" not in good.text
    assert vm.check_pin(db_session, "+4930123456711", "394817").ok


# --- greetings --------------------------------------------------------------------------------


def test_greeting_upload_preview_activate(as_anna, db_session, profile):
    from io import BytesIO

    response = as_anna.post(f"{base(profile)}/greetings/busy",
                            data={"source": "upload", "file": (BytesIO(tone("mp3", 2.0)), "ansage.mp3")},
                            headers=HTMX, content_type="multipart/form-data")
    assert response.status_code == 200, response.text
    assert response.text.lstrip().startswith('<article id="greeting-busy"')
    slot = vm.greeting_slot(db_session, profile, GreetingKind.BUSY)
    assert slot.draft is not None and slot.active is None
    assert f"/greetings/{slot.draft.id}/audio" in response.text
    preview = as_anna.get(f"{base(profile)}/greetings/{slot.draft.id}/audio")
    assert preview.status_code == 200 and preview.mimetype == "audio/mpeg"

    activated = as_anna.post(f"{base(profile)}/greetings/{slot.draft.id}/activate", headers=HTMX)
    assert activated.status_code == 200 and "toast" in trigger(activated)
    db_session.expire_all()
    assert vm.greeting_slot(db_session, profile, GreetingKind.BUSY).active.id == slot.draft.id


def test_text_file_as_greeting_is_refused_next_to_the_field_and_nothing_changes(as_anna, db_session, profile):
    from io import BytesIO

    before = vm.greeting_slot(db_session, profile, GreetingKind.UNAVAILABLE).active.id
    response = as_anna.post(f"{base(profile)}/greetings/unavailable",
                            data={"source": "upload", "file": (BytesIO(b"Hallo Welt\n" * 30), "ansage.txt")},
                            headers=HTMX, content_type="multipart/form-data")
    assert response.status_code == 422
    assert 'id="unavailable-file-errors"' in response.text and 'role="alert"' in response.text
    assert "aria-invalid=\"true\"" in response.text
    slot = vm.greeting_slot(db_session, profile, GreetingKind.UNAVAILABLE)
    assert slot.active.id == before and slot.draft is None


def test_upload_without_a_file_asks_for_one(anna_en, db_session, profile):
    from io import BytesIO

    response = anna_en.post(f"{base(profile)}/greetings/busy", headers=HTMX, content_type="multipart/form-data",
                            data={"source": "upload", "file": (BytesIO(b""), "")})
    assert response.status_code == 422
    assert re.search(r'id="busy-file-errors"[^>]*>Please choose an audio file', response.text)
    recorded = anna_en.post(f"{base(profile)}/greetings/busy", data={"source": "recording"}, headers=HTMX)
    assert recorded.status_code == 422 and "Please record the greeting first" in recorded.text
    assert vm.greeting_slot(db_session, profile, GreetingKind.BUSY).draft is None


def test_empty_text_greeting_is_refused(as_anna, profile):
    response = as_anna.post(f"{base(profile)}/greetings/busy", data={"source": "tts", "text": " "}, headers=HTMX)
    assert response.status_code == 422 and 'id="busy-text-errors"' in response.text


def test_the_absence_period_of_a_new_greeting_is_typed_once_for_all_three_ways(anna_en, profile):
    page = anna_en.get(f"{base(profile)}/greetings").text
    card = page[page.index('id="greeting-absence"'):]
    assert card.count('name="absence_from"') == 1 and card.count('name="absence_until"') == 1
    # the fields belong to the upload form; recording and text include them
    assert re.search(r'id="absence-new-from"[^>]*form="upload-absence-form"|form="upload-absence-form"[^>]*id="absence-new-from"', card)
    assert card.count('hx-include="#absence-new-period"') == 2
    response = anna_en.post(f"{base(profile)}/greetings/absence", headers=HTMX, data={
        "source": "tts", "text": "Ich bin im Urlaub.", "absence_from": "2026-12-10", "absence_until": "2026-12-01"})
    assert response.status_code == 422
    assert re.search(r'id="absence-new-until-errors"[^>]*>The end of the period must not be before its start',
                     response.text)
    assert response.text.count('value="2026-12-10"') == 1  # kept, once


def test_absence_period_without_an_active_absence_greeting_says_why(anna_en, profile):
    response = anna_en.post(f"{base(profile)}/greetings/absence/period", data={"absence_from": "2026-12-01"},
                            headers=HTMX)
    assert response.status_code == 422
    assert trigger(response)["toast"] == "Activate an absence greeting first."
    plain = anna_en.post(f"{base(profile)}/greetings/absence/period", data={"absence_from": "2026-12-01"})
    assert plain.status_code == 422 and "Activate an absence greeting first." in plain.text


def test_unknown_greeting_kind_is_404(as_anna, profile):
    assert as_anna.post(f"{base(profile)}/greetings/holiday", data={"source": "tts", "text": "x"}).status_code == 404


def test_use_standard_greeting(as_anna, db_session, profile):
    response = as_anna.post(f"{base(profile)}/greetings/unavailable/standard", headers=HTMX)
    assert response.status_code == 200
    assert 'data-greeting-state="standard"' in response.text
    assert vm.greeting_slot(db_session, profile, GreetingKind.UNAVAILABLE).active is None


# --- signed listen link -----------------------------------------------------------------------


def test_listen_link_works_without_sign_in(client, db_session, profile):
    message = deposit(db_session, data=tone("wav", 1.0))
    token = vm.listen_token(message)
    page = client.get(f"/voicemail/listen/{token}")
    assert page.status_code == 200 and "<audio" in page.text
    audio = client.get(f"/voicemail/listen/{token}/audio", headers={"Range": "bytes=0-9"})
    assert audio.status_code == 206 and len(audio.data) == 10
    assert client.get("/voicemail/listen/forged.token").status_code == 404


def test_other_profiles_voicemail_page_for_max(client, db_session):
    max_profile = profile_by_email(db_session, "max.mueller@muster.example")
    login(client, "max.mueller@muster.example", "demo-user-2026")
    page = client.get(base(max_profile))
    assert page.status_code == 200


def test_demo_message_audio_is_spoken_again_when_the_media_root_lacks_it(as_anna, db_session, profile):
    from sqlalchemy import select

    from webapp.services import storage, tts

    if not tts.available():
        pytest.skip("espeak-ng is not installed")
    demo = db_session.scalar(select(VoicemailMessage).where(VoicemailMessage.platform_message_id == "demo-anna-1"))
    storage.delete(demo.audio_key)  # as on a machine whose media folder lacks the demo audio
    assert not storage.exists(demo.audio_key)
    response = as_anna.get(f"{base(profile)}/messages/{demo.id}/download")
    assert response.status_code == 200 and response.data[:4] == b"RIFF"
    assert as_anna.get(f"{base(profile)}/messages/{demo.id}/audio").status_code == 200


def test_profile_without_voicemail_number_shows_why(client, db_session):
    bea = profile_by_email(db_session, "bea.berger@beispiel.example")
    login(client, "cf-admin@beispiel.example")
    page = client.get(base(bea))
    assert page.status_code == 200
    assert "noch keine Rufnummer zugewiesen" in page.text
    assert "Noch keine Nachrichten." in page.text


def test_english_pages(as_anna, profile):
    as_anna.post("/language", data={"lang": "en", "next": "/"})
    page = as_anna.get(base(profile)).text
    assert "Mark as heard" in page and "Unknown" in page and "Greetings" in page
    settings = as_anna.get(base(profile) + "/settings").text
    assert "Greeting with recording" in settings and "delete after sending" in settings


def test_speech_synthesis_failure_is_shown_next_to_the_text(as_anna, profile, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # as on a server without eSpeak NG
    response = as_anna.post(f"{base(profile)}/greetings/busy", data={"source": "tts", "text": "Hallo zusammen"},
                            headers=HTMX)
    assert response.status_code == 422
    assert 'id="busy-text-errors"' in response.text and "Sprachausgabe" in response.text


def test_messages_page_says_when_the_voicemail_is_off(as_anna, db_session, profile):
    vm.settings_of(db_session, profile).enabled = False
    db_session.commit()
    assert "Der Anrufbeantworter ist ausgeschaltet" in as_anna.get(base(profile)).text
