"""The OpenAPI 3.1 document of ``/api/v1``, served at ``/api/v1/openapi.json``.

One module per area holds ``PATHS`` (path → operations, paths relative to ``/api/v1``, Flask's
``<int:x>`` written ``{x}``) and ``SCHEMAS`` (component schemas). To add an area: write
``spec/<area>.py`` with both dicts and list the module in ``AREAS`` below; the test
``tests/reliability/test_openapi.py`` fails until every route of the api blueprint is described
and every example validates against its schema.
"""

from __future__ import annotations

import copy
from typing import Any

from . import common, conference, fax, voicemail

AREAS = [common, voicemail, fax, conference]


def document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for area in AREAS:
        paths.update(copy.deepcopy(area.PATHS))
        schemas.update(copy.deepcopy(area.SCHEMAS))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "UMS Portal platform API",
            "version": "1",
            "description": (
                "The telephony platform's API. Every request is signed: `X-UMS-Timestamp` (Unix "
                "seconds, at most 300 s off) and `X-UMS-Signature: sha256=<hex HMAC-SHA256 of "
                "timestamp + \".\" + body with PLATFORM_SECRET>`; or `Authorization: Bearer "
                "<PLATFORM_API_TOKEN>`. A signed request is accepted once (409 `replayed` for a "
                "copy): sign every request, retries included, anew. Errors are JSON "
                "`{error, message, field?}`; 422 for input the API cannot read."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"signature": [], "timestamp": []}, {"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "signature": {"type": "apiKey", "in": "header", "name": "X-UMS-Signature"},
                "timestamp": {"type": "apiKey", "in": "header", "name": "X-UMS-Timestamp"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
            "responses": common.RESPONSES,
        },
    }
