"""Assets, signals, readings by time range, and ingest (JSON batches and file uploads)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Body, Depends, File, Form, HTTPException, Query, UploadFile

from geniot.core.exceptions import DataError
from geniot.data.io import read_table
from geniot.ingest.messages import IngestError, Reading, parse_json_batch
from geniot.service.deps import allow_read, get_service, require_token
from geniot.service.routers._common import clean, frame_records, iso_list, parse_time
from geniot.service.schemas import IngestResult
from geniot.service.state import PlantService

router = APIRouter(tags=["readings"])
_MAX_POINTS = 200_000


@router.get("/api/assets", dependencies=[Depends(allow_read)])
def assets(service: PlantService = Depends(get_service)) -> list[dict]:
    """Every asset with its signals and time range."""
    out = []
    for a in service.store.assets():
        lo, hi = service.store.time_range(a)
        out.append({"asset": a, "signals": service.store.signals(a), "start": lo.isoformat(), "end": hi.isoformat()})
    return out


@router.get("/api/assets/{asset}/signals", dependencies=[Depends(allow_read)])
def signals(asset: str, service: PlantService = Depends(get_service)) -> list[str]:
    return _store_call(lambda: service.store.signals(asset), 404)


@router.get("/api/assets/{asset}/readings", dependencies=[Depends(allow_read)])
def readings(
    asset: str,
    start: str | None = Query(None, description="ISO time, inclusive"),
    end: str | None = Query(None, description="ISO time, exclusive"),
    layout: Literal["wide", "long"] = "wide",
    signals: list[str] | None = Query(None),
    last: int | None = Query(None, ge=1, le=_MAX_POINTS, description="only the last N timestamps"),
    service: PlantService = Depends(get_service),
) -> dict:
    """Readings of one asset in [start, end): wide (timestamps + one list per signal) or long."""
    lo, hi = parse_time(start, "start"), parse_time(end, "end")
    if layout == "long":
        frame = _store_call(lambda: service.store.read_long(asset, start=lo, end=hi, signals=signals), 404)
        if frame.empty and asset not in service.store.assets():
            raise HTTPException(404, f"unknown asset {asset!r}")
        if len(frame) > _MAX_POINTS:
            raise HTTPException(413, f"{len(frame)} readings: narrow the time range (limit {_MAX_POINTS})")
        return {"asset": asset, "layout": "long", "readings": frame_records(frame)}
    series = _store_call(lambda: service.store.read_wide(asset, start=lo, end=hi, signals=signals), 404)
    values, ts = series.values, series.timestamps
    if last is not None:
        values, ts = values[-last:], ts[-last:]
    if values.size > _MAX_POINTS:
        raise HTTPException(413, f"{values.size} values: narrow the time range or pass last=N (limit {_MAX_POINTS})")
    return {
        "asset": asset,
        "layout": "wide",
        "timestamps": iso_list(ts),
        "signals": {c: [clean(v) for v in values[:, j]] for j, c in enumerate(series.channels)},
    }


@router.post("/api/ingest", dependencies=[Depends(require_token)])
def ingest_json(
    body: list[dict] = Body(..., description='records: {"asset", "signal", "ts", "value"} or {"asset", "ts", "values": {...}}'),
    service: PlantService = Depends(get_service),
) -> IngestResult:
    """A JSON batch of readings. Bad records are rejected with their index and reason (and kept
    in the dead-letter table); the good ones are stored."""
    try:
        good, bad = parse_json_batch(body)
    except IngestError as exc:
        raise HTTPException(422, exc.reason) from None
    for i, reason in bad:
        service.writer.reject("http", None, f"record {i}: {reason}", str(body[i])[:2048])
    if good:
        service.writer.submit(good)
    service.writer.flush()
    return IngestResult(accepted=len(good), rejected=[{"index": i, "reason": r} for i, r in bad])


@router.post("/api/ingest/file", dependencies=[Depends(require_token)])
async def ingest_file(
    file: UploadFile = File(..., description="CSV or Parquet, wide or long layout"),
    asset: str | None = Form(None, description="asset name for a wide file (default: the file name)"),
    service: PlantService = Depends(get_service),
) -> IngestResult:
    """Upload a CSV or Parquet file; its readings are stored (duplicates once)."""
    name = Path(file.filename or "upload.csv").name
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(await file.read())
        try:
            table = read_table(path)
        except DataError as exc:
            raise HTTPException(422, str(exc).replace(str(path), name)) from None
    readings: list[Reading] = []
    for key, series in table.items():
        label = asset or key
        if series.timestamps is None:
            raise HTTPException(422, f"{name}: the file has no time column; readings need timestamps")
        for j, signal in enumerate(series.channels):
            col = series.values[:, j]
            for t, v in zip(series.timestamps, col, strict=True):
                if v == v:  # not NaN
                    readings.append(Reading(t.astype("datetime64[us]").item(), label, signal, float(v)))
    service.writer.submit(readings)
    service.writer.flush()
    return IngestResult(accepted=len(readings))


@router.get("/api/dead-letters", dependencies=[Depends(allow_read)])
def dead_letters(limit: int = Query(100, ge=1, le=10_000), service: PlantService = Depends(get_service)) -> dict:
    """Rejected messages with their reasons, newest first."""
    return {"count": service.store.count_dead_letters(), "items": frame_records(service.store.dead_letters(limit))}


def _store_call(fn, status: int):
    try:
        return fn()
    except DataError as exc:
        raise HTTPException(status, exc.reason) from None
