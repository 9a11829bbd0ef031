"""Forms of the UMS administration, one per use case. Choices come from the routes (what the
signed-in admin may manage); rules that need the database live in the services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ProfileCreateForm(FlaskForm):
    """„Unified Messaging Profil anlegen“."""

    contract_id = SelectField(_l("Vertrag / Enterprise"), coerce=_int_or_none,
                              validators=[DataRequired(_l("Please choose a contract."))], validate_choice=False)
    site_id = SelectField(_l("Standort / Gruppe"), coerce=_int_or_none,
                          validators=[DataRequired(_l("Please choose a site."))], validate_choice=False)
    last_name = StringField(_l("Name"), validators=[DataRequired(_l("Please enter the name.")), Length(max=100)])
    first_name = StringField(_l("Vorname"), validators=[DataRequired(_l("Please enter the first name.")),
                                                        Length(max=100)])
    email = StringField(_l("E-Mail-Adresse"), validators=[DataRequired(_l("Please enter the e-mail address.")),
                                                          Length(max=254)])
    language = SelectField(_l("Language of the invitation"), choices=[SelectChoice("de", "Deutsch"), SelectChoice("en", "English")],
                           default="de")


class ProfileEditForm(FlaskForm):
    """„Unified Messaging Profil bearbeiten“: master data."""

    last_name = StringField(_l("Name"), validators=[DataRequired(_l("Please enter the name.")), Length(max=100)])
    first_name = StringField(_l("Vorname"), validators=[DataRequired(_l("Please enter the first name.")),
                                                        Length(max=100)])
    site_id = SelectField(_l("Standort / Gruppe"), coerce=_int_or_none, validators=[Optional()],
                          validate_choice=False)


class CodeForm(FlaskForm):
    code = StringField(_l("Code from the e-mail"), validators=[
        DataRequired(_l("Please enter the 6-digit code.")),
        Regexp(r"^\s*\d{6}\s*$", message=_l("The code has 6 digits.")),
    ])


class NewEmailForm(FlaskForm):
    email = StringField(_l("New e-mail address"), validators=[
        DataRequired(_l("Please enter the new e-mail address.")), Length(max=254)])


class AssignNumberForm(FlaskForm):
    number_id = SelectField(_l("Number"), coerce=_int_or_none, validate_choice=False,
                            validators=[DataRequired(_l("Please choose a number."))])


class ImportForm(FlaskForm):
    """CSV import of UMS profiles: the file, or (after a clean preview) its content again."""

    file = FileField(_l("CSV file"))
    content = HiddenField()


class EmptyForm(FlaskForm):
    """Buttons that only post (resend, release, delete, request code): CSRF only."""


def choices(items, placeholder=None) -> list[SelectChoice]:
    """``[(value, label), …]`` as WTForms choices; a required select starts with an empty
    ``placeholder`` option (HTML wants one, and nothing is chosen by accident)."""
    first = [SelectChoice("", placeholder)] if placeholder else []
    return first + [SelectChoice(value, label) for value, label in items]


def choose_placeholder() -> str:
    return str(_l("– please choose –"))
