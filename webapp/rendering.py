"""Template rendering kept lean (measured with scripts/bench_http.py, see docs/performance.md).

What the profiles showed: every ``_()`` in a template looked up the request, the locale and its
catalogue again (about 13 µs; a voicemail row has eight of them), and every ``|datetime``
parsed and localised anew (about 27 µs). Here both cost a dictionary lookup, with the same output.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from babel import dates, support
from flask import Flask
from flask_babel import get_locale, get_timezone, get_translations
from jinja2 import pass_context
from markupsafe import Markup


def init_app(app: Flask) -> None:
    _load_wtforms_catalogues_once()

    @app.context_processor
    def _translations_of_this_render() -> dict:
        """``gettext``/``ngettext`` (and ``_``, which calls ``gettext``) bound to the catalogue of
        the locale in force when the template is rendered: looked up once per render instead of
        once per string. Macros imported without context keep Flask-Babel's own (same result)."""
        translations = get_translations()
        gettext = _newstyle_gettext(translations.ugettext)
        # ``_`` itself too: Jinja's own ``_`` looks ``gettext`` up in the context and calls it
        # through ``Context.call`` on every use, twice the work for the most frequent call
        return {"gettext": gettext, "_": gettext, "ngettext": _newstyle_ngettext(translations.ungettext)}


# Jinja's newstyle gettext (jinja2.ext): the result is marked safe under autoescape and always
# %-formatted with the keyword arguments, so "%%" and "%(name)s" behave as before.

def _newstyle_gettext(lookup):
    @pass_context
    def gettext(__context, __string: str, **variables):
        rv = lookup(__string)
        if not variables and "%" not in rv:  # most strings: nothing to format (or to unescape)
            return Markup(rv) if __context.eval_ctx.autoescape else rv
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables

    return gettext


def _newstyle_ngettext(lookup):
    @pass_context
    def ngettext(__context, __singular: str, __plural: str, __num: int, **variables):
        variables.setdefault("num", __num)
        rv = lookup(__singular, __plural, __num)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables

    return ngettext


def format_moment(value: datetime | None, fmt: str = "short") -> str:
    """The ``datetime`` filter: Flask-Babel's ``format_datetime`` (user's time zone and locale)."""
    if not value:
        return ""
    return _format_moment(value, fmt, get_locale(), get_timezone())


@lru_cache(maxsize=8192)
def _format_moment(value: datetime, fmt: str, locale, tzinfo) -> str:
    """List pages show the same moments again and again (every refresh, every page turn)."""
    return dates.format_datetime(value, fmt, tzinfo=tzinfo, locale=locale)


# Flask-WTF loads WTForms' own catalogue (its validators' messages) from disk again on every
# request that builds a form: a search of the locale folders and a parse of the .mo file. The
# catalogues do not change while the portal runs, so they are loaded once per locale and shared.

class _CatalogueLoader:
    class Translations:
        @staticmethod
        def load(dirname, locales, domain):
            return _wtforms_catalogue(dirname, tuple(str(locale) for locale in locales), domain)


@lru_cache(maxsize=16)
def _wtforms_catalogue(dirname, locales: tuple[str, ...], domain: str):
    return support.Translations.load(dirname, list(locales), domain=domain)


def _load_wtforms_catalogues_once() -> None:
    import flask_wtf.i18n

    flask_wtf.i18n.support = _CatalogueLoader  # its only use: support.Translations.load(...)
    # the folder of WTForms' catalogues, looked up with every form that has a number field
    flask_wtf.i18n.messages_path = lru_cache(maxsize=1)(flask_wtf.i18n.messages_path)
