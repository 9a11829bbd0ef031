"""Anrufbeantworter: deposits, PIN checks, greeting audio."""

from .common import error

SCHEMAS = {
    "Deposit": {
        "type": "object",
        "required": ["audio", "called", "received_at", "platform_message_id"],
        "properties": {
            "audio": {"type": "string", "contentMediaType": "application/octet-stream",
                      "description": "WAV, MP3, OGG/Opus, M4A/AAC or FLAC."},
            "called": {"type": "string", "description": "The called number (E.164 or national)."},
            "caller": {"type": "string", "description": "The caller's number; empty when withheld."},
            "received_at": {"type": "string", "format": "date-time"},
            "platform_message_id": {"type": "string", "minLength": 1, "maxLength": 100},
        },
    },
    "DepositResult": {
        "type": "object",
        "required": ["id", "platform_message_id", "created", "duration_ms"],
        "properties": {
            "id": {"type": "integer"},
            "platform_message_id": {"type": "string"},
            "created": {"type": "boolean", "description": "false: this id was stored before (no copy)."},
            "duration_ms": {"type": "integer", "minimum": 0},
        },
    },
    "PinCheck": {
        "type": "object",
        "required": ["number", "pin"],
        "properties": {"number": {"type": "string"}, "pin": {"type": "string"}},
    },
    "PinCheckResult": {
        "type": "object",
        "required": ["ok", "reason", "attempts_left", "locked_until"],
        "properties": {
            "ok": {"type": "boolean"},
            "reason": {"enum": [None, "wrong", "locked", "no_pin"]},
            "attempts_left": {"type": ["integer", "null"]},
            "locked_until": {"type": ["string", "null"], "format": "date-time"},
        },
    },
}

PATHS = {
    "/voicemail/messages": {"post": {
        "operationId": "voicemailDeposit",
        "summary": "Deposit a voice message; the same platform_message_id is stored once.",
        "requestBody": {"required": True, "content": {"multipart/form-data": {
            "schema": {"$ref": "#/components/schemas/Deposit"},
            "example": {"audio": "<binary>", "called": "+493012345671", "caller": "+4940123456789",
                        "received_at": "2026-11-30T09:15:00+01:00", "platform_message_id": "plat-abc-1"}}}},
        "responses": {
            "201": {"description": "Stored.", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/DepositResult"},
                "example": {"id": 17, "platform_message_id": "plat-abc-1", "created": True, "duration_ms": 4200}}}},
            "200": {"description": "Stored before (a retry).", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/DepositResult"},
                "example": {"id": 17, "platform_message_id": "plat-abc-1", "created": False, "duration_ms": 4200}}}},
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "404": error("No voicemail on this number.", {"error": "NotFound",
                                                          "message": "No Anrufbeantworter on this number.",
                                                          "field": "called"}),
            "409": {"$ref": "#/components/responses/Replayed"},
            "415": error("Not multipart/form-data.", {"error": "UnsupportedMediaType",
                                                      "message": "Send multipart/form-data with audio, called, "
                                                                 "caller, received_at and platform_message_id."}),
            "422": {"$ref": "#/components/responses/Unreadable"},
        },
    }},
    "/voicemail/pin-check": {"post": {
        "operationId": "voicemailPinCheck",
        "summary": "Check a caller's PIN for phone access; 3 wrong PINs lock it for 15 minutes.",
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/PinCheck"},
                                 "example": {"number": "+493012345671", "pin": "394817"}},
            "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/PinCheck"},
                                                  "example": {"number": "+493012345671", "pin": "394817"}},
        }},
        "responses": {
            "200": {"description": "The answer (also for a wrong PIN).", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/PinCheckResult"},
                "examples": {
                    "right": {"value": {"ok": True, "reason": None, "attempts_left": 3, "locked_until": None}},
                    "wrong": {"value": {"ok": False, "reason": "wrong", "attempts_left": 2, "locked_until": None}},
                    "locked": {"value": {"ok": False, "reason": "locked", "attempts_left": 0,
                                         "locked_until": "2026-11-30T09:30:00+00:00"}},
                }}}},
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "404": {"$ref": "#/components/responses/NotFound"},
            "409": {"$ref": "#/components/responses/Replayed"},
            "422": {"$ref": "#/components/responses/Unreadable"},
        },
    }},
    "/voicemail/greetings/{greeting_id}/audio": {"get": {
        "operationId": "voicemailGreetingAudio",
        "summary": "The telephony WAV of a greeting named in a voicemail.greeting_changed event.",
        "parameters": [{"name": "greeting_id", "in": "path", "required": True,
                        "schema": {"type": "integer", "minimum": 1}, "example": 5}],
        "responses": {
            "200": {"description": "8 kHz mono 16-bit WAV.", "content": {"audio/wav": {
                "schema": {"type": "string", "contentMediaType": "audio/wav"}}}},
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "404": {"$ref": "#/components/responses/NotFound"},
            "409": {"$ref": "#/components/responses/Replayed"},
        },
    }},
}
