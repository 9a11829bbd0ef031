"""Forms of the ordering area (Bestellsystem), one per use case. Quantities and terms are checked
by the services (with messages next to their field); the forms render the fields."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice


def term_choices():
    return [SelectChoice("12", _l("12 months")), SelectChoice("24", _l("24 months")),
            SelectChoice("36", _l("36 months"))]


class TrunkForm(FlaskForm):
    """A new SIP trunk: (which trunk,) minimum term, Kombi-Option → „In den Warenkorb“."""

    product = RadioField(_l("SIP trunk"), choices=[], validate_choice=False)
    term = RadioField(_l("Minimum term"), choices=term_choices(), default="24", validate_choice=False)
    kombi = RadioField(_l("Kombi-Option"), choices=[SelectChoice("no", _l("No")), SelectChoice("yes", _l("Yes"))], default="no",
                       validate_choice=False)


class OptionForm(FlaskForm):
    """Voice channels or „Unified Messaging Paket“: the quantity and the trunk it attaches to."""

    quantity = StringField(_l("Quantity"), default="1", render_kw={"inputmode": "numeric", "autocomplete": "off"})
    trunk_id = SelectField(_l("SIP trunk"), choices=[], validate_choice=False)


class RefuseForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the customer"), render_kw={"maxlength": 500, "rows": 3})
