"""Forms of „Mein Konto“, one per use case."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..auth.forms import SetPasswordForm


class AccountProfileForm(FlaskForm):
    display_name = StringField(_l("Name"), validators=[DataRequired(_l("Please enter your name.")),
                                                       Length(max=200)])
    locale = SelectField(_l("Language"), choices=[SelectChoice("de", "Deutsch"), SelectChoice("en", "English")],
                         default="de")


class ChangePasswordForm(SetPasswordForm):
    """The new password twice (the rules of setting one), plus the current one."""

    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(_l("Please enter your current password."))])


class PasswordConfirmForm(FlaskForm):
    """The password again, before turning two-factor sign-in off or renewing recovery codes."""

    password = PasswordField(_l("Your password"), validators=[DataRequired(_l("Please enter your password."))])


class TotpConfirmForm(FlaskForm):
    code = StringField(_l("Code from the app"), validators=[DataRequired(_l("Please enter the code.")),
                                                            Length(max=20)])


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token."""
