"""OpenAPI descriptions shared by the controllers: every error is a problem document."""

from __future__ import annotations

from litestar._openapi.schema_generation import SchemaCreator
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Schema
from litestar.plugins.pydantic import PydanticSchemaPlugin
from litestar.typing import FieldDefinition

from missiond.api.wire import ProblemOut

PROBLEM_JSON = "application/problem+json"

_DESCRIPTIONS = {
    400: "Bad request: VALIDATION_FAILED, MALFORMED_JSON, INVALID_CURSOR, ... (fields named in errors)",
    401: "UNAUTHORIZED: missing or bad bearer token",
    403: "FORBIDDEN: capability or partition missing",
    404: "NOT_FOUND or a narrower *_NOT_FOUND code",
    409: "A state conflict: REVISION_CONFLICT, TXN_COMPARE_FAILED, ...",
    410: "CURSOR_EXPIRED: the cursor is older than the retained log",
    412: "PRECONDITION_FAILED: If-Match / If-None-Match did not hold",
    413: "PAYLOAD_TOO_LARGE / VALUE_TOO_LARGE",
    422: "IDEMPOTENCY_KEY_REUSED",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    chosen = statuses or (400, 401, 403)
    return {
        status: ResponseSpec(
            data_container=ProblemOut,
            media_type=PROBLEM_JSON,
            description=_DESCRIPTIONS[status],
            generate_examples=False,
        )
        for status in chosen
    }


class StrictModelSchemaPlugin(PydanticSchemaPlugin):
    """Say `additionalProperties: false` for wire models that refuse unknown fields,
    so a generated client knows what the server will reject."""

    @classmethod
    def for_pydantic_model(cls, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:  # type: ignore[override]
        schema = super().for_pydantic_model(field_definition, schema_creator)
        config = getattr(field_definition.annotation, "model_config", {})
        if config.get("extra") == "forbid":
            schema.additional_properties = False
        return schema
