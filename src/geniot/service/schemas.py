"""Request and response bodies of the REST API (they make its OpenAPI spec)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class IngestResult(BaseModel):
    accepted: int = Field(description="readings parsed and queued for the store")
    rejected: list[dict[str, Any]] = Field(default_factory=list, description="index and reason of bad records")


class TrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="name of the model folder to write")
    asset: str = Field(min_length=1, max_length=128)
    generator: Literal["gaussian", "vae", "diffusion"] = "gaussian"
    window: int = Field(16, ge=2, le=512)
    max_minutes: float = Field(2.0, gt=0, le=120)
    days: float | None = Field(None, gt=0, le=3650, description="train on the last N days only")
    params: dict[str, Any] = Field(default_factory=dict)


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
    asset: str = Field(min_length=1, max_length=128)
    start: str | None = None
    end: str | None = None
    draws: int = Field(8, ge=1, le=100)


class AskRequest(BaseModel):
    question: str = Field(..., min_length=1, max_length=500, description="a question in English or German")
