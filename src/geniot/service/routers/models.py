"""Models: train (a background job), list, status, delete; synthesize, impute and detect."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Path, Request

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import GeniotError
from geniot.core.names import MAX_NAME_LENGTH, check_name
from geniot.data.clock import fill_missing_steps
from geniot.models.loading import load_generator
from geniot.service.deps import allow_read, get_service, note_audit, require_admin
from geniot.service.routers._common import clean, iso_list, parse_time
from geniot.service.schemas import JobOut, RangeRequest, SynthesizeRequest, TrainRequest
from geniot.service.state import PlantService
from geniot.tasks import AnomalyDetector
from geniot.workflows.gap_filling import fill_series

router = APIRouter(tags=["models"])
# a model name in the path: checked by the one name rule before anything touches the file system
ModelName = Annotated[str, Path(min_length=1, max_length=MAX_NAME_LENGTH, description="a model folder name")]


def _model_name(name: str) -> str:
    try:
        return check_name(name, "model name")
    except GeniotError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/api/models", dependencies=[Depends(allow_read)])
def list_models(service: PlantService = Depends(get_service)) -> list[dict]:
    return service.jobs.list_models()


@router.post("/api/models/train", dependencies=[Depends(require_admin)], status_code=202)
def train(req: TrainRequest, request: Request, service: PlantService = Depends(get_service)) -> JobOut:
    """Start a training job for an asset's stored readings; poll ``/api/jobs/{id}``. When it
    finishes, the model scores that asset's live readings."""
    note_audit(request, req.model, f"asset {req.asset}, generator {req.generator}")
    try:
        job = service.jobs.submit(
            model=req.model, asset=req.asset, generator=req.generator, window=req.window,
            max_minutes=req.max_minutes, params=req.params, days=req.days,
        )  # fmt: skip
    except GeniotError as exc:
        raise HTTPException(422, str(exc)) from None
    return JobOut(**job.to_dict())


@router.get("/api/jobs", dependencies=[Depends(allow_read)])
def jobs(service: PlantService = Depends(get_service)) -> list[JobOut]:
    return [JobOut(**j.to_dict()) for j in sorted(service.jobs.jobs.values(), key=lambda j: -j.created)]


@router.get("/api/jobs/{job_id}", dependencies=[Depends(allow_read)])
def job(job_id: str, service: PlantService = Depends(get_service)) -> JobOut:
    found = service.jobs.jobs.get(job_id)
    if found is None:
        raise HTTPException(404, f"no job {job_id!r}")
    return JobOut(**found.to_dict())


@router.delete("/api/models/{name}", dependencies=[Depends(require_admin)])
def delete(name: ModelName, service: PlantService = Depends(get_service)) -> dict:
    """Remove one model's folder (only that folder) and stop its live scoring."""
    _model_name(name)
    try:
        gone = service.jobs.delete(name)
    except GeniotError as exc:
        raise HTTPException(422, str(exc)) from None
    if not gone:
        raise HTTPException(404, f"no model {name!r}")
    service.live.deactivate(name)
    return {"deleted": name}


def _load(service: PlantService, name: str) -> BaseGenerator:
    _model_name(name)
    try:
        folder = service.jobs.model_dir(name)
        if not folder.is_dir():
            raise HTTPException(404, f"no model {name!r}")
        return load_generator(folder)
    except GeniotError as exc:
        raise HTTPException(422, str(exc)) from None


@router.post("/api/models/{name}/synthesize", dependencies=[Depends(require_admin)])
def synthesize(name: ModelName, req: SynthesizeRequest, service: PlantService = Depends(get_service)) -> dict:
    """Synthetic windows in the data's units: ``windows[i][step][channel]``."""
    gen = _load(service, name)
    windows = gen.sample(req.n, random_state=req.seed)
    return {"channels": None if gen.channel_names_ is None else list(gen.channel_names_), "windows": [[[clean(v) for v in step] for step in w] for w in windows]}


def _series(service: PlantService, gen: BaseGenerator, req: RangeRequest):
    try:
        series = service.store.read_wide(
            req.asset, start=parse_time(req.start, "start"), end=parse_time(req.end, "end"),
            signals=None if gen.channel_names_ is None else list(gen.channel_names_),
        )  # fmt: skip
    except GeniotError as exc:
        raise HTTPException(422, str(exc)) from None
    if series.n_steps > 100_000:
        raise HTTPException(413, f"{series.n_steps} steps: narrow the time range (limit 100000)")
    return series


@router.post("/api/models/{name}/impute", dependencies=[Depends(require_admin)])
def impute(name: ModelName, req: RangeRequest, service: PlantService = Depends(get_service)) -> dict:
    """Stored readings of an asset with gaps filled, with a 90% interval per filled value."""
    gen = _load(service, name)
    clock = fill_missing_steps(_series(service, gen, req), cap=False)  # an outage's rows are gaps too, as in `geniot impute`
    series = clock.series
    if series.n_steps > 100_000:
        raise HTTPException(413, f"{series.n_steps} steps with the outages' missing readings: narrow the time range (limit 100000)")
    try:
        result = fill_series(gen, series, n_draws=req.draws)  # the workflow `geniot impute` uses
        filled, lower, upper = result.filled, result.lower, result.upper
    except GeniotError as exc:
        raise HTTPException(422, str(exc)) from None
    gaps = series.mask
    added = np.ones(series.n_steps, dtype=bool)
    added[clock.rows] = False
    return {
        "asset": req.asset,
        "added_steps": clock.inserted,  # timestamps missing from the clock, added and filled
        "outages": clock.gaps,
        "outages_left": clock.left,  # stretches too long to fill (more than MAX_GAP_ROWS readings missed)
        "timestamps": iso_list(series.timestamps),
        "added": [bool(v) for v in added],  # per timestamp: not stored, missing from the clock
        "signals": {
            c: {"value": [clean(v) for v in filled.values[:, j]], "filled": [bool(not m) for m in gaps[:, j]],
                "lower": [clean(v) for v in lower.values[:, j]], "upper": [clean(v) for v in upper.values[:, j]]}
            for j, c in enumerate(series.channels)
        },  # fmt: skip
    }


@router.post("/api/models/{name}/detect", dependencies=[Depends(require_admin)])
def detect(name: ModelName, req: RangeRequest, service: PlantService = Depends(get_service)) -> dict:
    """Anomaly scores, flags, top sensors and events for stored readings (needs a calibrated model)."""
    _model_name(name)
    try:
        detector = AnomalyDetector.load(service.jobs.model_dir(name))
    except GeniotError as exc:
        raise HTTPException(404 if "no model" in str(exc) or "spec.json" in str(exc) else 422, str(exc)) from None
    series = _series(service, detector.generator_, req)
    try:
        result = detector.detect(series)
    except GeniotError as exc:
        raise HTTPException(422, str(exc)) from None
    return {
        "asset": req.asset,
        "threshold": result.threshold,  # steady windows'
        "timestamps": iso_list(series.timestamps),
        "scores": [clean(v) for v in result.scores],
        "thresholds": [clean(v) for v in result.thresholds],  # per step: a regime switch's window has its own
        "flags": [bool(f) for f in result.flags],
        "top_sensors": [list(t) for t in result.top_sensors],
        "events": [{k: clean(v) for k, v in e.to_dict().items()} for e in result.events],
    }
