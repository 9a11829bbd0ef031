"""Forms of the fax area: list filters, sending, settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from ...models import FaxResolution
from ...services.fax import sending, settings


class ReceivedFilterForm(FlaskForm):
    show = SelectField(_l("Show"), choices=[SelectChoice("all", _l("All faxes")), SelectChoice("new", _l("New only"))], default="all",
                       validate_choice=False)
    sender = SearchField(_l("Sender"), validators=[Optional(), Length(max=40)])
    day_from = DateField(_l("From"), validators=[Optional()])
    day_until = DateField(_l("Until"), validators=[Optional()])
    page = IntegerField(validators=[Optional(), NumberRange(1, 100000)], default=1)

    def validate_day_until(self, field):
        if field.data and self.day_from.data and field.data < self.day_from.data:
            raise ValidationError(_l("The end of the period must not be before its start."))


class SentFilterForm(FlaskForm):
    destination = SearchField(_l("Recipient"), validators=[Optional(), Length(max=40)])
    day_from = DateField(_l("From"), validators=[Optional()])
    day_until = DateField(_l("Until"), validators=[Optional()])
    page = IntegerField(validators=[Optional(), NumberRange(1, 100000)], default=1)


class IdsForm(FlaskForm):
    action = HiddenField()


class UploadForm(FlaskForm):
    file = FileField(_l("Document (PDF, JPG, PNG or TIFF, at most 20 MB)"))


class SendForm(FlaskForm):
    destination = StringField(_l("Fax number of the recipient"), validators=[Length(max=40)])
    resolution = RadioField(
        _l("Resolution"), choices=[SelectChoice(r.value, sending.RESOLUTION_LABELS[r]) for r in FaxResolution],
        default=FaxResolution.FINE.value,
    )
    cover_enabled = BooleanField(_l("Add a cover page"))
    cover_from = StringField(_l("From"), validators=[Length(max=100)])
    cover_to = StringField(_l("To"), validators=[Length(max=100)])
    cover_subject = StringField(_l("Subject"), validators=[Length(max=200)])
    cover_note = TextAreaField(_l("Note"), validators=[Length(max=2000)])
    send_later = BooleanField(_l("Send later"))
    send_after = DateTimeLocalField(_l("Send at"), validators=[Optional()], format="%Y-%m-%dT%H:%M")

    def validate_send_after(self, field):
        if self.send_later.data and not field.data:
            raise ValidationError(_l("Please choose when to send."))


class SettingsForm(FlaskForm):
    email_enabled = BooleanField(_l("Fax to e-mail: send received faxes as PDF by e-mail"))
    email_addresses = TextAreaField(
        _l("E-mail addresses (separated by commas; empty: the profile's address)"),
        validators=[Length(max=1300)])
    header_line = StringField(_l("Kopfzeile"), validators=[Length(max=settings.HEADER_MAX,
                              message=_l("The Kopfzeile can have at most 50 characters."))])
    station_id = StringField(_l("Station ID"), validators=[Length(max=settings.STATION_MAX,
                             message=_l("The station ID can have at most 20 characters: digits, + and spaces."))])

    def validate_station_id(self, field):
        problem = settings.station_problem((field.data or "").strip())
        if problem:
            raise ValidationError(problem)

    def validate_header_line(self, field):
        problem = settings.header_problem((field.data or "").strip())
        if problem:
            raise ValidationError(problem)

    def validate_email_addresses(self, field):
        from ...services.errors import ValidationFailed

        try:
            settings.parse_addresses(field.data or "")
        except ValidationFailed as exc:
            raise ValidationError(exc.message) from exc
