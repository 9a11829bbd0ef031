from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length, ValidationError


class LoginForm(FlaskForm):
    email = StringField(_l("E-mail address"), validators=[DataRequired(_l("Please enter your e-mail address."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Please enter your password."))])
    next = HiddenField()


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Please choose a password.")),
                    Length(min=10, message=_l("The password needs at least %(min)d characters."))],
    )
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(_l("Please repeat the password.")),
                    EqualTo("password", message=_l("The two passwords differ."))],
    )


class LanguageForm(FlaskForm):
    lang = StringField(_l("Language"), validators=[AnyOf(["de", "en"])])
    next = HiddenField()


class SecondFactorForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(_l("Please enter the code.")), Length(max=40)])


def _no_control_characters(form, field) -> None:
    if field.data and any(ord(ch) < 32 or ord(ch) == 127 for ch in field.data):
        raise ValidationError(_l("Please enter a valid e-mail address."))


class ForgotPasswordForm(FlaskForm):
    email = StringField(_l("E-mail address"), validators=[DataRequired(_l("Please enter your e-mail address.")),
                                                          Length(max=254), _no_control_characters])
