"""Wire types: what crosses HTTP. Separate from tables and from core values."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class WireModel(BaseModel):
    # strict: "1" is not an integer and 1 is not a string; a wrong type is a 400.
    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, json_schema_extra={"additionalProperties": False}
    )


class EventOut(BaseModel):
    seq: int
    id: str
    type: str
    subject: str
    ts: str = Field(description="RFC 3339 UTC")
    actor: str
    correlation_id: str | None
    causation_id: str | None
    data: dict[str, Any]
    v: int


class EventPageOut(BaseModel):
    events: list[EventOut]
    next_cursor: str | None
    head: int
    floor: int


class EventIn(WireModel):
    type: str = Field(max_length=128, examples=["session.run.started"])
    subject: str = Field(max_length=512, examples=["session/abc"])
    data: dict[str, Any] = Field(default_factory=dict)
    v: int = Field(default=1, ge=1, le=1000)
    causation_id: str | None = Field(default=None, max_length=64)


class EventBatchIn(WireModel):
    events: list[EventIn] = Field(min_length=1, max_length=500)


class IngestOut(BaseModel):
    events: list[EventOut]


class CompactIn(WireModel):
    through_seq: int = Field(ge=0)


class CompactOut(BaseModel):
    removed: int
    floor: int
    head: int


class HealthOut(BaseModel):
    status: str
    version: str
    database: str
    schema_version: str
    head_seq: int


class WhoAmIOut(BaseModel):
    subject: str
    kind: str
    capabilities: list[str]


class StatsOut(BaseModel):
    subscribers: int
    hub_position: int


class FieldError(BaseModel):
    field: str
    message: str


class ProblemOut(BaseModel):
    """RFC 9457 problem details, as every error is answered."""

    type: str
    title: str
    status: int
    code: str = Field(description="stable machine code, e.g. VALIDATION_FAILED")
    detail: str
    instance: str | None = None
    correlation_id: str | None = None
    errors: list[FieldError] | None = None
