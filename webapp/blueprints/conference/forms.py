"""Forms of the conference area: settings, a scheduled meeting, simulator. The PIN form is the
voicemail's (same rules through ``voicemail.pin_problem``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange

from ...services.conference import room as rooms
from ..voicemail.forms import PinForm  # noqa: F401  (re-exported: one PIN form for both services)


class SettingsForm(FlaskForm):
    max_participants = IntegerField(
        _l("Maximum participants"), default=10,
        validators=[InputRequired(_l("Please enter a number of participants.")),
                    NumberRange(2, 50, _l("Choose between 2 and 50 participants."))])
    wait_for_moderator = BooleanField(_l("Participants wait for the moderator (with music)"))
    announce_join_leave = BooleanField(_l("Announce who joins and leaves"))
    entry_exit_tones = BooleanField(_l("Tones on entry and exit"))
    mute_on_entry = BooleanField(_l("Mute participants on entry"))
    end_when_moderator_leaves = BooleanField(_l("End the conference when the moderator leaves"))
    allow_recording = BooleanField(_l("Allow recording"))
    language = SelectField(_l("Language of the announcements"),
                           choices=[SelectChoice(k, v) for k, v in rooms.LANGUAGE_LABELS.items()], default="de")


class MeetingForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(_l("Please enter a title.")), Length(max=200)])
    start = DateTimeLocalField(_l("Start (Berlin time)"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                               validators=[InputRequired(_l("Please enter the start date and time."))])
    duration_minutes = IntegerField(
        _l("Duration (minutes)"), default=60,
        validators=[InputRequired(_l("Please enter the duration in minutes.")),
                    NumberRange(5, 480, _l("The duration must be between 5 minutes and 8 hours."))])
    agenda = TextAreaField(_l("Agenda"), validators=[Length(max=5000)])
    invitees = TextAreaField(_l("Invitees (e-mail addresses)"))


class SimulatorForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=100)])
    moderator = BooleanField(_l("Joins as moderator"))
