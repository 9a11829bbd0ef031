"""Forms of the voicemail area: settings, PIN, greetings, message filter and bulk actions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SearchField,
    SelectField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ...models import VoicemailMode
from ...services import voicemail


class SettingsForm(FlaskForm):
    enabled = BooleanField(_l("Anrufbeantworter eingeschaltet"))
    answer = RadioField(
        _l("When does the voicemail answer?"),
        choices=[SelectChoice("after", _l("After a number of seconds")), SelectChoice("immediately", _l("At once"))],
        default="after",
    )
    answer_after_seconds = IntegerField(
        _l("Answer after (seconds)"), default=20,
        validators=[InputRequired(_l("Please enter a number of seconds.")),
                    NumberRange(5, 60, _l("Choose between 5 and 60 seconds."))],
    )
    mode = RadioField(
        _l("Mode"), choices=[SelectChoice(m.value, voicemail.MODE_LABELS[m]) for m in VoicemailMode],
        default=VoicemailMode.RECORD.value,
    )
    max_message_seconds = IntegerField(
        _l("Maximum message length (seconds)"), default=120,
        validators=[InputRequired(_l("Please enter a number of seconds.")),
                    NumberRange(30, 300, _l("Choose between 30 and 300 seconds."))],
    )
    notify_email = BooleanField(_l("Notify me by e-mail about new messages"))
    notify_target = RadioField(
        _l("Send the notification to"),
        choices=[SelectChoice("profile", _l("The profile's address")), SelectChoice("other", _l("Another address"))],
        default="profile",
    )
    notify_address = EmailField(
        _l("Other address"),
        validators=[Optional(), Email(_l("Please enter a valid e-mail address.")), Length(max=254)],
    )
    attach_audio = BooleanField(_l("Attach the message as audio file"))
    delete_after_send = BooleanField(_l("nach Versand löschen"))

    def validate_delete_after_send(self, field):
        if field.data and not (self.notify_email.data and self.attach_audio.data):
            raise ValidationError(
                _l("„nach Versand löschen“ is only possible with the e-mail notification and the audio attached.")
            )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # „At once“ ignores the seconds (the page says so): an empty or out-of-range value there
        # keeps the stored one instead of refusing the form.
        if self.answer.data == "immediately" and self.answer_after_seconds.errors:
            self.answer_after_seconds.errors = []
            self.answer_after_seconds.data = self.answer_after_seconds.object_data or 20
            valid = not any(f.errors for f in self)
        # Optional() ends the field's own chain when it is empty, so the "required when another
        # address is chosen" rule lives here.
        if self.notify_target.data == "other" and not (self.notify_address.data or "").strip():
            self.notify_address.errors = [*self.notify_address.errors,
                                          _l("Please enter the address for the notification.")]
            valid = False
        return valid



class PinForm(FlaskForm):
    pin = PasswordField(_l("New PIN"), validators=[InputRequired(_l("Please enter a PIN."))])
    pin_confirm = PasswordField(
        _l("Repeat the PIN"),
        validators=[InputRequired(_l("Please repeat the PIN.")),
                    EqualTo("pin", _l("The two PINs are not the same."))],
    )

    def __init__(self, *args, number: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._number = number

    def validate_pin(self, field):
        problem = voicemail.pin_problem(field.data or "", self._number)
        if problem:
            raise ValidationError(problem)


class GreetingUploadForm(FlaskForm):
    source = HiddenField(default="upload")
    file = FileField(_l("Audio file"))
    text = TextAreaField(_l("Text of the greeting"), validators=[Optional(), Length(max=1000)])
    absence_from = DateField(_l("Absent from"), validators=[Optional()])
    absence_until = DateField(_l("Absent until"), validators=[Optional()])

    def validate_absence_until(self, field):
        if field.data and self.absence_from.data and field.data < self.absence_from.data:
            raise ValidationError(_l("The end of the period must not be before its start."))


class AbsencePeriodForm(FlaskForm):
    absence_from = DateField(_l("Absent from"), validators=[Optional()])
    absence_until = DateField(_l("Absent until"), validators=[Optional()])

    def validate_absence_until(self, field):
        if field.data and self.absence_from.data and field.data < self.absence_from.data:
            raise ValidationError(_l("The end of the period must not be before its start."))


class MessageFilterForm(FlaskForm):
    """GET parameters of the message list (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    show = SelectField(_l("Show"), choices=[SelectChoice("all", _l("All messages")), SelectChoice("new", _l("New only"))], default="all")
    caller = SearchField(_l("Caller number"), validators=[Optional(), Length(max=40)])
    day = DateField(_l("Date"), validators=[Optional()])  # one day: links from before the range
    since = DateField(_l("Received from"), validators=[Optional()])
    until = DateField(_l("Received until"), validators=[Optional()])
    page = IntegerField(default=1, validators=[Optional()])

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end of the period must not be before its start."))


class MessageIdsForm(FlaskForm):
    """Selected messages for a bulk action, restore or delete; the list state comes along."""

    action = HiddenField()
