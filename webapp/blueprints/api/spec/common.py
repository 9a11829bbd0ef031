"""Shared parts: the error body, common answers, the ping and the document itself."""

ERROR_EXAMPLE = {"error": "ValidationFailed", "message": "number is missing or not a phone number.",
                 "field": "number"}


def error(description: str, example: dict | None = None) -> dict:
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}, "example": example or ERROR_EXAMPLE}}}


RESPONSES = {
    "Unauthorized": error("Missing or wrong signature or token.", {
        "error": "unauthorized",
        "message": "Missing or wrong signature (X-UMS-Timestamp, X-UMS-Signature) or token."}),
    "Replayed": error("This signed request was accepted before.", {
        "error": "replayed", "message": "This signed request was accepted before; sign every request anew."}),
    "Unreadable": error("Input the API cannot read (nesting too deep, control characters, wrong fields).",
                        {"error": "ValidationFailed", "message": "JSON nested deeper than 32 levels."}),
    "NotFound": error("No such object.", {"error": "NotFound", "message": "The requested URL was not found."}),
}

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string"},
            "message": {"type": "string"},
            "field": {"type": "string"},
        },
    },
}

PATHS = {
    "/ping": {"get": {
        "operationId": "ping", "summary": "Check signature and reachability.",
        "responses": {
            "200": {"description": "Reachable, signature accepted.", "content": {"application/json": {
                "schema": {"type": "object", "required": ["ok"], "properties": {"ok": {"const": True}}},
                "example": {"ok": True}}}},
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "409": {"$ref": "#/components/responses/Replayed"},
        },
    }},
    "/openapi.json": {"get": {
        "operationId": "openapi", "summary": "This document (needs no signature).", "security": [],
        "responses": {"200": {"description": "The OpenAPI 3.1 document.", "content": {
            "application/json": {"schema": {"type": "object", "required": ["openapi"]}}}}},
    }},
}
