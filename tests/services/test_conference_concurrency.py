"""Parallel requests on PostgreSQL: the same platform event at once is applied once; a room
opened for the first time by several requests at once is created once; two rooms typing the
same PIN at the same moment: one gets it, the other a clear refusal (never a 500)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import login
from tests.parallel import run_at_once
from tests.routes.test_api_voicemail import signed_post
from tests.services.test_conference import ANNA_CONF, MAX_CONF, profile

pytestmark = pytest.mark.postgres
PARALLEL = 8


def test_the_same_event_at_once_is_applied_once(pg_app):
    from webapp.extensions import db
    from webapp.models import ConferenceEvent, ConferenceParticipant

    def send(_n):
        response = signed_post(pg_app.test_client(), "/api/v1/conference/events", json_body={
            "event_id": "par-1", "kind": "joined", "number": ANNA_CONF, "call_id": "par-leg", "name": "Jan"})
        return response.status_code, response.json["applied"]

    results = run_at_once(PARALLEL, send)
    assert sorted(results) == [(200, False)] * (PARALLEL - 1) + [(200, True)]
    with pg_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ConferenceEvent)
                                 .where(ConferenceEvent.event_id == "par-1")) == 1
        assert db.session.scalar(select(func.count()).select_from(ConferenceParticipant)
                                 .where(ConferenceParticipant.call_id == "par-leg")) == 1


def test_a_room_opened_at_once_is_created_once_and_a_pin_typed_at_once_goes_to_one_room(pg_app):
    from webapp.extensions import db
    from webapp.models import ConferencePin, PhoneNumber, PinRole, Service, User
    from webapp.services import numbers
    from webapp.services.conference import room as rooms

    with pg_app.app_context():
        max_ = profile(db.session, "max.mueller@muster.example")
        admin = db.session.scalar(select(User).where(User.email == "admin@muster.example"))
        number = db.session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == MAX_CONF))
        numbers.assign_number(db.session, admin, max_, Service.CONFERENCE, number.id)  # no room yet
        db.session.commit()
        max_id, anna_id = max_.id, profile(db.session).id

    def open_page(_n):
        client = pg_app.test_client()
        login(client, "max.mueller@muster.example", "demo-user-2026")
        return client.get(f"/profiles/{max_id}/conference").status_code

    assert run_at_once(4, open_page) == [200] * 4
    with pg_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ConferencePin)
                                 .where(ConferencePin.profile_id == max_id)) == 2

    def type_pin(n):
        client = pg_app.test_client()
        email, password, pid = (("anna.schmidt@muster.example", "demo-user-2026", anna_id) if n == 0
                                else ("max.mueller@muster.example", "demo-user-2026", max_id))
        login(client, email, password)
        return client.post(f"/profiles/{pid}/conference/pins/participant",
                           data={"participant-pin": "604817", "participant-pin_confirm": "604817"}).status_code

    results = run_at_once(2, type_pin)
    assert sorted(results) == [303, 422]
    with pg_app.app_context():
        owners = [p for p in db.session.scalars(select(ConferencePin).where(ConferencePin.digest == rooms.digest("604817")))]
        assert len(owners) == 1 and owners[0].role == PinRole.PARTICIPANT
