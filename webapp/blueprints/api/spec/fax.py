"""Fax: received faxes, status of sent ones, the TIFF of a send attempt.

Written against the fax branch's routes; the lead lists this module in ``AREAS`` when the fax
API is merged (``tests/reliability/test_openapi.py`` then checks it against the routes)."""

SCHEMAS = {
    "FaxReceived": {
        "type": "object",
        "required": ["document", "called", "received_at", "platform_fax_id"],
        "properties": {
            "document": {"type": "string", "contentMediaType": "application/octet-stream",
                         "description": "TIFF or PDF."},
            "called": {"type": "string"},
            "caller": {"type": "string", "description": "Empty when withheld."},
            "station_id": {"type": "string"},
            "received_at": {"type": "string", "format": "date-time"},
            "platform_fax_id": {"type": "string", "minLength": 1, "maxLength": 100},
        },
    },
    "FaxReceivedResult": {
        "type": "object",
        "required": ["id", "platform_fax_id", "created", "pages"],
        "properties": {"id": {"type": "integer"}, "platform_fax_id": {"type": "string"},
                       "created": {"type": "boolean"}, "pages": {"type": "integer", "minimum": 0}},
    },
    "FaxStatus": {
        "type": "object",
        "required": ["platform_fax_id", "status"],
        "properties": {
            "platform_fax_id": {"type": "string", "minLength": 1, "maxLength": 100},
            "status": {"enum": ["sending", "sent", "busy", "no_answer", "failed"]},
            "reason": {"type": "string"},
        },
    },
    "FaxStatusResult": {
        "type": "object",
        "required": ["fax_id", "status", "attempts", "changed"],
        "properties": {"fax_id": {"type": "integer"}, "status": {"type": "string"},
                       "attempts": {"type": "integer"}, "changed": {"type": "boolean"}},
    },
}

_COMMON = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "404": {"$ref": "#/components/responses/NotFound"},
    "409": {"$ref": "#/components/responses/Replayed"},
    "422": {"$ref": "#/components/responses/Unreadable"},
}

PATHS = {
    "/fax/received": {"post": {
        "operationId": "faxReceived", "summary": "Deposit a received fax; the same platform_fax_id is stored once.",
        "requestBody": {"required": True, "content": {"multipart/form-data": {
            "schema": {"$ref": "#/components/schemas/FaxReceived"},
            "example": {"document": "<binary>", "called": "+493012345672", "caller": "+4940123456789",
                        "station_id": "+49 40 123456789", "received_at": "2026-11-30T09:15:00+01:00",
                        "platform_fax_id": "fax-abc-1"}}}},
        "responses": {
            "201": {"description": "Stored.", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/FaxReceivedResult"},
                "example": {"id": 3, "platform_fax_id": "fax-abc-1", "created": True, "pages": 2}}}},
            "200": {"description": "Stored before (a retry).", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/FaxReceivedResult"},
                "example": {"id": 3, "platform_fax_id": "fax-abc-1", "created": False, "pages": 2}}}},
            **_COMMON,
        },
    }},
    "/fax/status": {"post": {
        "operationId": "faxStatus", "summary": "Report the state of a send attempt (idempotent).",
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/FaxStatus"},
            "example": {"platform_fax_id": "fax-send-7-1", "status": "sent"}}}},
        "responses": {
            "200": {"description": "Applied, or accepted without change.", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/FaxStatusResult"},
                "example": {"fax_id": 7, "status": "sent", "attempts": 1, "changed": True}}}},
            **_COMMON,
        },
    }},
    "/fax/sent/{platform_fax_id}/document": {"get": {
        "operationId": "faxDocument", "summary": "The TIFF (Class F) of one send attempt.",
        "parameters": [{"name": "platform_fax_id", "in": "path", "required": True,
                        "schema": {"type": "string", "maxLength": 100}, "example": "fax-send-7-1"}],
        "responses": {
            "200": {"description": "TIFF.", "content": {"image/tiff": {
                "schema": {"type": "string", "contentMediaType": "image/tiff"}}}},
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "404": {"$ref": "#/components/responses/NotFound"},
            "409": {"$ref": "#/components/responses/Replayed"},
        },
    }},
}
