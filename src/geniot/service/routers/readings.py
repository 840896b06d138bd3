"""Assets, signals, readings by time range, and ingest (JSON batches and file uploads).

Both ingest routes pass every reading through the writer's :class:`~geniot.ingest.checks.ReadingChecks`
(names, timestamps, physical ranges: the same checks as MQTT), answer 4xx naming what is wrong
(record index; file, row and column) and 503 when the writer cannot store (never 200 for readings
that were not stored). Asset and signal names in paths and queries pass the one name rule.
"""

from __future__ import annotations

import gzip
import shutil
import tempfile
import zlib
from pathlib import Path
from typing import Literal

import numpy as np
from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from geniot.core.exceptions import DataError
from geniot.core.names import check_name, is_valid_name
from geniot.data.io import read_table
from geniot.ingest.checks import name_problem, times_problem
from geniot.ingest.messages import IngestError, Reading, loads_body, parse_json_batch
from geniot.service import deps
from geniot.service.deps import allow_read, get_service, require_ingest
from geniot.service.routers._common import clean, frame_records, iso_list, parse_time
from geniot.service.schemas import IngestResult
from geniot.service.state import PlantService

router = APIRouter(tags=["readings"])
_MAX_POINTS = 200_000
_SUFFIXES = (".csv.gz", ".csv", ".parquet", ".pq")
_INFLATE_FACTOR = 5  # a .gz may inflate to this many times the body limit
_CHUNK = 1 << 20


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
    _check_names(asset, None)
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
    _check_names(asset, signals)
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


@router.post(
    "/api/ingest",
    dependencies=[Depends(require_ingest)],
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": 'records: {"asset", "signal", "ts", "value"} or {"asset", "ts", "values": {...}}',
            "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}},
        }
    },
    responses={503: {"description": "the writer cannot store now; nothing was stored, resending is safe"}},
)
async def ingest_json(request: Request, service: PlantService = Depends(get_service)) -> IngestResult:
    """A JSON batch of readings. Bad records are rejected with their index and reason (and kept
    in the dead-letter table); the good ones are stored before the answer (503 if they cannot be)."""
    _writer_or_503(service)
    body = await request.body()  # read after the token check (the dependency ran first)
    return await run_in_threadpool(_ingest_records, request, service, body)


def _ingest_records(request: Request, service: PlantService, body: bytes) -> IngestResult:
    try:
        records = loads_body(body, service.settings.max_body_bytes or len(body))
        good, bad = parse_json_batch(records, checks=service.writer.checks)
    except IngestError as exc:
        raise HTTPException(422, exc.reason) from None
    for i, reason in bad:
        service.writer.reject("http", None, f"record {i}: {reason}", str(records[i])[:2048])
    accepted, problem = service.writer.store_now(good, source="http")
    if problem is not None:
        raise HTTPException(503, f"not stored: {problem}")
    _note_audit(request, sorted({r.asset for r in good}))
    return IngestResult(accepted=accepted, rejected=[{"index": i, "reason": r} for i, r in bad])


@router.post(
    "/api/ingest/file",
    dependencies=[Depends(require_ingest)],
    responses={503: {"description": "the writer cannot store now; nothing was stored, resending is safe"}},
)
async def ingest_file(
    request: Request,
    file: UploadFile = File(..., description="CSV (optionally .csv.gz) or Parquet, wide or long layout"),
    asset: str | None = Form(None, description="asset name for a wide file (default: the file name)"),
    service: PlantService = Depends(get_service),
) -> IngestResult:
    """Upload a CSV or Parquet file; all of it is stored (duplicates once) or, if any cell breaks
    the ingest checks, none of it, with a 422 naming the file, row and column."""
    _writer_or_503(service)
    return await run_in_threadpool(_ingest_upload, request, file, asset, service)


def _ingest_upload(request: Request, file: UploadFile, asset: str | None, service: PlantService) -> IngestResult:
    name = Path(file.filename or "upload.csv").name or "upload.csv"
    suffix = next((s for s in _SUFFIXES if name.lower().endswith(s)), None)
    if suffix is None:
        raise HTTPException(422, f"file {name!r}: unsupported file type; use .csv, .csv.gz or .parquet")
    stem = name[: -len(suffix)]
    if asset is not None and (problem := name_problem(asset, "asset")):
        raise HTTPException(422, f"file {name!r}: {problem}")
    with tempfile.TemporaryDirectory() as tmp:
        local_stem = stem if is_valid_name(stem) else "upload"
        path = Path(tmp) / (local_stem + (".csv" if suffix == ".csv.gz" else suffix))
        if suffix == ".csv.gz":
            _inflate(file, path, name, _inflate_limit(service))
        else:
            with path.open("wb") as out:
                shutil.copyfileobj(file.file, out, _CHUNK)
        table = _read_upload(path, name)
    readings: list[Reading] = []
    checks = service.writer.checks
    for key, series in table.items():
        if asset is None and key == local_stem and local_stem != stem:
            raise HTTPException(422, f"file {name!r}: the file name is not a valid asset name; pass the form field asset")
        label = asset or key
        if problem := name_problem(label, "asset"):
            raise HTTPException(422, f"file {name!r}: {problem}")
        if series.timestamps is None:
            raise HTTPException(422, f"file {name!r}: the file has no time column; readings need timestamps")
        if found := times_problem(series.timestamps):
            i, problem = found
            raise HTTPException(422, f"file {name!r}, asset {label!r}, row {i + 1}: {problem}")
        stamps = series.timestamps.astype("datetime64[us]").tolist()
        for j, signal in enumerate(series.channels):
            if problem := name_problem(signal, "signal"):
                raise HTTPException(422, f"file {name!r}, column {signal[:64]!r}: {problem}")
            col = np.asarray(series.values[:, j], dtype=np.float64)
            if found := checks.column_problem(signal, col):
                i, problem = found
                raise HTTPException(422, f"file {name!r}, column {signal!r}, row {i + 1}: {problem}")
            for k in np.flatnonzero(~np.isnan(col)):
                readings.append(Reading(stamps[k], label, signal, float(col[k])))
    accepted, problem = service.writer.store_now(readings, timeout=60.0, source="file")
    if problem is not None:
        raise HTTPException(503, f"file {name!r} not stored: {problem}")
    _note_audit(request, sorted({r.asset for r in readings}), f"file {name}")
    return IngestResult(accepted=accepted)


@router.get("/api/dead-letters", dependencies=[Depends(allow_read)])
def dead_letters(limit: int = Query(100, ge=1, le=10_000), service: PlantService = Depends(get_service)) -> dict:
    """Rejected messages with their reasons, newest first."""
    return {"count": service.store.count_dead_letters(), "items": frame_records(service.store.dead_letters(limit))}


# ---------------------------------------------------------------------------------- helpers
def _check_names(asset: str, signals: list[str] | None) -> None:
    try:
        check_name(asset, "asset")
        for s in signals or []:
            check_name(s, "signal")
    except DataError as exc:
        raise HTTPException(422, str(exc)) from None


def _writer_or_503(service: PlantService) -> None:
    problem = service.writer.problem()
    if problem is not None:
        raise HTTPException(503, f"ingest is not working: {problem}")


def _inflate_limit(service: PlantService) -> int:
    return _INFLATE_FACTOR * (service.settings.max_body_bytes or 20 * 1024 * 1024)


def _inflate(upload: UploadFile, path: Path, name: str, limit: int) -> None:
    """Stream-decompress a .gz upload into ``path``, refusing as soon as it passes ``limit``."""
    written = 0
    try:
        with gzip.GzipFile(fileobj=upload.file, mode="rb") as src, path.open("wb") as out:
            while chunk := src.read(_CHUNK):
                written += len(chunk)
                if written > limit:
                    raise HTTPException(413, f"file {name!r}: decompresses to over {limit} bytes (the limit)")
                out.write(chunk)
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise HTTPException(422, f"file {name!r}: not a valid gzip file ({exc})") from None


def _read_upload(path: Path, name: str) -> dict:
    """``read_table`` with every failure a 422 that names the file (never a 500)."""
    try:
        return read_table(path)
    except DataError as exc:
        raise HTTPException(422, str(exc).replace(str(path), name)) from None
    except UnicodeDecodeError as exc:
        raise HTTPException(422, f"file {name!r}: not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV") from None
    except Exception as exc:  # noqa: BLE001 - a malformed file is bad input, not a server error
        detail = str(exc).replace(str(path), name)[:300]
        raise HTTPException(422, f"file {name!r}: could not be read as {path.suffix[1:]} ({type(exc).__name__}: {detail})") from None


def _note_audit(request: Request, assets: list[str], detail: str = "") -> None:
    note = getattr(deps, "note_audit", None)  # the access layer's audit note, when it has one
    if note is not None:
        shown = ",".join(assets[:20]) + ("..." if len(assets) > 20 else "")
        note(request, shown, detail)


def _store_call(fn, status: int):
    try:
        return fn()
    except DataError as exc:
        raise HTTPException(status, exc.reason) from None
