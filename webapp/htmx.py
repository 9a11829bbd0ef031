"""The one helper that answers a full page or just the swapped partial (style.md rule 6)."""

from __future__ import annotations

from flask import Response, make_response, render_template, request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_partial() -> bool:
    """A partial only for an htmx request that is neither boosted nor a history restore."""
    return (
        is_htmx()
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(page_template: str, partial_template: str, /, *, status: int = 200,
           trigger: dict | str | None = None, **context) -> Response:
    """Render the partial for htmx, else the page (which includes the same partial).

    The templates are positional-only, so ``page=`` and ``partial=`` stay free for the context."""
    template = partial_template if wants_partial() else page_template
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    if trigger:
        set_trigger(response, trigger)
    return response


def set_trigger(response: Response, trigger: dict | str) -> Response:
    import json

    response.headers["HX-Trigger"] = trigger if isinstance(trigger, str) else json.dumps(trigger)
    return response


def redirect(location: str, status: int = 303) -> Response:
    """After a create or delete: a real page load — ``HX-Redirect`` for htmx, a 303 otherwise.

    Not ``HX-Location``: the GET that follows it is itself an htmx request, so it would be answered
    with a partial and swapped into ``<body>`` without the page around it."""
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        return response
    response = make_response("", status)
    response.headers["Location"] = location
    return response
