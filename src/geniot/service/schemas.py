"""Request and response bodies of the REST API (they make its OpenAPI spec)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from geniot.core.names import MAX_NAME_LENGTH, check_name


def _name(what: str):
    """A field validator: the one name rule (``geniot.core.names``) for names that reach files."""
    return field_validator(what)(classmethod(lambda cls, value: check_name(value, what)))


class IngestResult(BaseModel):
    accepted: int = Field(description="readings parsed and queued for the store")
    rejected: list[dict[str, Any]] = Field(default_factory=list, description="index and reason of bad records")


class TrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str = Field(min_length=1, max_length=MAX_NAME_LENGTH, description="name of the model folder to write")
    asset: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    generator: Literal["gaussian", "vae", "diffusion"] = "gaussian"
    window: int = Field(16, ge=2, le=512)
    max_minutes: float = Field(2.0, gt=0, le=120)
    days: float | None = Field(None, gt=0, le=3650, description="train on the last N days only")
    params: dict[str, Any] = Field(default_factory=dict)

    _model_name = _name("model")
    _asset_name = _name("asset")


class JobOut(BaseModel):
    id: str
    model: str
    asset: str
    generator: str
    status: str
    progress: float
    message: str
    created: float
    finished: float | None = None


class SynthesizeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int = Field(10, ge=1, le=10_000)
    seed: int | None = 0


class RangeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    asset: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    start: str | None = None
    end: str | None = None
    draws: int = Field(8, ge=1, le=100)

    _asset_name = _name("asset")


class AskRequest(BaseModel):
    question: str = Field(..., min_length=1, max_length=500, description="a question in English or German")


class SecurityActivateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH, description="folder in <home>/security written by `geniot security fit`")
    _check = _name("name")
