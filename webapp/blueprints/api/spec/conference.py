"""Konferenz: live events, the room for the platform, recordings.

Written against the conference branch's routes; the lead lists this module in ``AREAS`` when
the conference API is merged (``tests/reliability/test_openapi.py`` then checks it)."""

SCHEMAS = {
    "ConferenceEvent": {
        "type": "object",
        "required": ["event_id", "kind", "number", "call_id", "occurred_at"],
        "properties": {
            "event_id": {"type": "string", "minLength": 1},
            "kind": {"enum": ["joined", "left", "talking", "muted"]},
            "number": {"type": "string"},
            "call_id": {"type": "string"},
            "occurred_at": {"type": "string", "format": "date-time"},
            "caller": {"type": "string"},
            "name": {"type": "string"},
            "moderator": {"type": "boolean"},
            "value": {"type": "boolean", "description": "talking/muted: on or off."},
        },
    },
    "ConferenceEventResult": {
        "type": "object",
        "required": ["applied", "event_id", "participant"],
        "properties": {
            "applied": {"type": "boolean", "description": "false: this event_id was applied before."},
            "event_id": {"type": "string"},
            "participant": {"type": ["object", "null"], "properties": {
                "call_id": {"type": "string"}, "present": {"type": "boolean"},
                "talking": {"type": "boolean"}, "muted": {"type": "boolean"}}},
        },
    },
    "ConferenceRecording": {
        "type": "object",
        "required": ["audio", "called", "platform_recording_id", "started_at"],
        "properties": {
            "audio": {"type": "string", "contentMediaType": "application/octet-stream"},
            "called": {"type": "string"},
            "platform_recording_id": {"type": "string", "minLength": 1, "maxLength": 100},
            "started_at": {"type": "string", "format": "date-time"},
        },
    },
    "ConferenceRecordingResult": {
        "type": "object",
        "required": ["id", "platform_recording_id", "created", "duration_ms"],
        "properties": {"id": {"type": "integer"}, "platform_recording_id": {"type": "string"},
                       "created": {"type": "boolean"}, "duration_ms": {"type": "integer", "minimum": 0}},
    },
}

_COMMON = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "404": {"$ref": "#/components/responses/NotFound"},
    "409": {"$ref": "#/components/responses/Replayed"},
    "422": {"$ref": "#/components/responses/Unreadable"},
}

PATHS = {
    "/conference/events": {"post": {
        "operationId": "conferenceEvent", "summary": "A live event of a conference call (idempotent by event_id).",
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/ConferenceEvent"},
            "example": {"event_id": "ev-1", "kind": "joined", "number": "+493012345673", "call_id": "c-1",
                        "occurred_at": "2026-11-30T09:15:00+01:00", "caller": "+4940123456789",
                        "name": "Max", "moderator": False}}}},
        "responses": {
            "200": {"description": "Applied (or seen before).", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/ConferenceEventResult"},
                "example": {"applied": True, "event_id": "ev-1",
                            "participant": {"call_id": "c-1", "present": True, "talking": False, "muted": False}}}}},
            **_COMMON,
        },
    }},
    "/conference/rooms/{number}": {"get": {
        "operationId": "conferenceRoom",
        "summary": "The room on a number with its PINs and settings (after a conference.room_changed event).",
        "parameters": [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"},
                        "example": "+493012345673"}],
        "responses": {
            "200": {"description": "The room.", "content": {"application/json": {"schema": {"type": "object"}}}},
            **_COMMON,
        },
    }},
    "/conference/recordings": {"post": {
        "operationId": "conferenceRecording", "summary": "Deposit a recording; the same id is stored once.",
        "requestBody": {"required": True, "content": {"multipart/form-data": {
            "schema": {"$ref": "#/components/schemas/ConferenceRecording"},
            "example": {"audio": "<binary>", "called": "+493012345673", "platform_recording_id": "rec-1",
                        "started_at": "2026-11-30T09:15:00+01:00"}}}},
        "responses": {
            "201": {"description": "Stored.", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/ConferenceRecordingResult"},
                "example": {"id": 2, "platform_recording_id": "rec-1", "created": True, "duration_ms": 60000}}}},
            "200": {"description": "Stored before.", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/ConferenceRecordingResult"},
                "example": {"id": 2, "platform_recording_id": "rec-1", "created": False, "duration_ms": 60000}}}},
            **_COMMON,
        },
    }},
}
