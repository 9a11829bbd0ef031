"""The audit trail shows an entry's details in words a customer reads."""

from flask_babel import force_locale

from webapp.models import AuditEntry
from webapp.services import audit_trail


def _texts(**detail):
    with force_locale("de"):
        return audit_trail.details(AuditEntry(action="x", detail=detail))


def test_field_names_are_translated_and_numbers_national(app):
    rows = _texts(contract="V-200001", site="Berlin Zentrale", service="fax", number="+4930123456712",
                  previous=None)
    assert rows == [("Vertrag / Enterprise", "V-200001"), ("Standort / Gruppe", "Berlin Zentrale"),
                    ("Dienst", "Fax"), ("Rufnummer", "030 123456712")]


def test_changes_read_old_to_new(app):
    assert _texts(changes={"last_name": ["Schmidt", "Schmitt"]}) == [("Name", "Schmidt → Schmitt")]


def test_voicemail_greeting_kinds_and_released_numbers(app):
    rows = dict(_texts(kind="busy", numbers_released=["+4930123456710"]))
    assert rows["Ansage"] == "Besetzt"
    assert rows["Freigegebene Rufnummern"] == "030 123456710"
