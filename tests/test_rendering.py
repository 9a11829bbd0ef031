"""Lean rendering (webapp/rendering.py) changes nothing a user sees: the per-render ``gettext``
and ``ngettext`` give what Flask-Babel's give, the cached ``datetime`` filter what
``format_datetime`` gives, in both languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import render_template_string
from flask_babel import force_locale, format_datetime

TEMPLATE = """
{{ _("Download") }}|{{ _("Unbekannt") }}|{{ _("Page %(page)d of %(pages)d", page=3, pages=7) }}
|{{ _("Message from %(caller)s, %(time)s", caller="<b>Müller & Co</b>", time="12:00") }}
|{{ ngettext("%(num)d new message", "%(num)d new messages", 1) }}
|{{ ngettext("%(num)d new message", "%(num)d new messages", 5) }}
|{{ gettext("Not in any catalogue, 100%% <sure>") }}
|{% trans n=2 %}{{ n }} of them{% endtrans %}
"""


@pytest.mark.parametrize("locale", ["de", "en"])
def test_templates_translate_as_flask_babel_does(app, locale):
    with app.test_request_context("/"), force_locale(locale):
        bound = render_template_string(TEMPLATE)  # with the context processors
        plain = app.jinja_env.from_string(TEMPLATE).render()  # Flask-Babel's globals only
    assert bound == plain
    assert ("Herunterladen" in bound) is (locale == "de")
    assert "&lt;b&gt;Müller &amp; Co&lt;/b&gt;" in bound  # variables escaped, the text is not
    assert "100% &lt;sure&gt;" not in bound and "100% <sure>" in bound


def test_mail_templates_are_not_escaped(app):
    with app.app_context(), force_locale("de"):
        text = app.jinja_env.from_string("{% autoescape false %}{{ _('Download') }} <{{ x }}>{% endautoescape %}")
        assert render_template_string("{% autoescape false %}{{ _('Download') }} <{{ x }}>{% endautoescape %}",
                                      x="a&b") == text.render(x="a&b")


@pytest.mark.parametrize("locale", ["de", "en"])
def test_the_datetime_filter_formats_as_flask_babel(app, locale):
    moments = [datetime(2025, 3, 30, 0, 59, tzinfo=UTC), datetime(2025, 3, 30, 1, 0, tzinfo=UTC),
               datetime(2025, 10, 26, 0, 30, tzinfo=UTC), datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)]
    moments += [moments[0] + timedelta(minutes=37 * n) for n in range(50)]
    with app.test_request_context("/"), force_locale(locale):
        for fmt in ("short", "medium", "long"):
            for moment in moments + moments:  # the second time from the cache
                shown = render_template_string("{{ m|datetime(fmt) }}", m=moment, fmt=fmt)
                assert shown == format_datetime(moment, fmt)
        assert render_template_string("{{ m|datetime }}", m=moments[0]) == format_datetime(moments[0], "short")
        assert render_template_string("[{{ none|datetime }}]", none=None) == "[]"


def test_wtforms_messages_stay_translated_and_load_once(app):
    from flask_wtf.i18n import translations

    from webapp.rendering import _wtforms_catalogue

    before = _wtforms_catalogue.cache_info()
    for locale, required in (("de", "Dieses Feld wird benötigt."), ("en", "This field is required.")):
        for _request in range(3):
            with app.test_request_context("/"), force_locale(locale):
                assert translations.gettext("This field is required.") == required
    after = _wtforms_catalogue.cache_info()
    assert after.misses - before.misses <= 2  # loaded once per language at most …
    assert after.hits - before.hits >= 4  # … and taken from memory for the other requests
