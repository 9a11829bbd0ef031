"""Text that reaches the portal is text: NUL and other control characters are refused at the edge,
once for every form field and once for every API body, with a message that says why.

Such characters break things far from where they came in (an external program's arguments,
PostgreSQL's text type, a mail header), so no field is left to guard itself."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import StopValidation

# C0 controls except tab, line feed and carriage return; DEL; the C1 controls.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MAX_JSON_DEPTH = 32

CONTROL_MESSAGE = _l("This field contains invisible control characters (such as a NUL byte). "
                     "Please remove them and try again.")


def has_control_characters(value: str) -> bool:
    return CONTROL_CHARACTERS.search(value) is not None


class NoControlCharacters:
    """WTForms validator, added to every text field of every form by ``install``."""

    field_flags: dict[str, Any] = {}

    def __call__(self, form, field) -> None:
        values = field.raw_data or []
        if any(isinstance(v, str) and has_control_characters(v) for v in values) or (
            isinstance(field.data, str) and has_control_characters(field.data)
        ):
            field.errors[:] = []
            raise StopValidation(str(CONTROL_MESSAGE))


_installed = False


def install() -> None:
    """Give every ``FlaskForm`` text field (StringField and its kin: text areas, e-mail, password,
    search) the control-character check, before its own validators."""
    global _installed
    if _installed:
        return
    from flask_wtf import FlaskForm

    meta = FlaskForm.Meta
    original = meta.bind_field

    def bind_field(self, form, unbound_field, options):
        field = original(self, form, unbound_field, options)
        if isinstance(field, StringField):
            field.validators = [NoControlCharacters(), *field.validators]
        return field

    meta.bind_field = bind_field
    _installed = True


class UnreadableJson(ValueError):
    """The body is not JSON the API can read (said in ``str(exc)``)."""


def check_json_value(value: Any, depth: int = 0, path: str = "$") -> None:
    """Raise ``UnreadableJson`` for nesting deeper than ``MAX_JSON_DEPTH`` or text with control
    characters (keys included)."""
    if depth > MAX_JSON_DEPTH:
        raise UnreadableJson(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
    if isinstance(value, str):
        if has_control_characters(value):
            raise UnreadableJson(f"{path} contains control characters (such as a NUL byte).")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_json_value(key, depth + 1, path)
            check_json_value(item, depth + 1, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_json_value(item, depth + 1, f"{path}[{index}]")


def parse_json(body: bytes) -> Any:
    """The body parsed and checked, or ``UnreadableJson``."""
    import json

    # Count the nesting before parsing: a deep body would exhaust the parser's recursion.
    depth = 0
    in_string = escaped = False
    for char in body.decode("utf-8", errors="replace"):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise UnreadableJson(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
        elif char in "]}":
            depth -= 1
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise UnreadableJson("The body is not valid JSON.") from exc
    check_json_value(value)
    return value
