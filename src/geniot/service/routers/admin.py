"""Admin: delete an asset's history, run retention now, take an online backup (scope admin).

Each write is kept in the audit table by the access gate; :func:`note_audit` says what it touched.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse

from geniot.core.exceptions import GeniotError
from geniot.core.names import MAX_NAME_LENGTH, check_name, path_under
from geniot.service.deps import allow_read, get_service, note_audit, require_admin
from geniot.service.routers._common import parse_time
from geniot.service.state import PlantService

router = APIRouter(tags=["admin"])
AssetName = Annotated[str, Path(min_length=1, max_length=MAX_NAME_LENGTH, description="an asset name")]


@router.delete("/api/assets/{asset}/readings", dependencies=[Depends(require_admin)])
def delete_readings(
    asset: AssetName,
    request: Request,
    start: str | None = Query(None, description="ISO time, inclusive; none = from the first reading"),
    end: str | None = Query(None, description="ISO time, exclusive; none = to the last reading"),
    service: PlantService = Depends(get_service),
) -> dict:
    """Delete the readings of one asset in ``[start, end)`` and what was derived from them: gap
    fills in the range, anomaly events and aggregate buckets wholly inside it. Returns the rows
    deleted per table (``kept_partial_buckets``: aggregate buckets reaching over the range's
    edges, which stay)."""
    try:
        check_name(asset, "asset")
    except GeniotError as exc:
        raise HTTPException(422, str(exc)) from None
    lo, hi = parse_time(start, "start"), parse_time(end, "end")
    if lo is not None and hi is not None and lo >= hi:
        raise HTTPException(422, f"start {start!r} is not before end {end!r}")
    if not service.store.has_asset(asset):
        raise HTTPException(404, f"unknown asset {asset!r}")
    service.writer.flush()  # readings still queued for this range are deleted too, not stored after
    counts = service.store.delete_history(asset, start=lo, end=hi)
    note_audit(request, asset, f"[{start or '-'}, {end or '-'}): " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return {"asset": asset, "start": start, "end": end, "deleted": counts}


@router.get("/api/admin/retention", dependencies=[Depends(allow_read)])
def retention_status(service: PlantService = Depends(get_service)) -> dict:
    """The retention schedule, its thread's state, the last run and error."""
    return service.retention.status()


@router.post("/api/admin/retention", dependencies=[Depends(require_admin)])
def run_retention(request: Request, service: PlantService = Depends(get_service)):
    """Run retention now (downsampling of old raw readings, dead-letter pruning) and return what
    it did; 500 with the same report when a part failed (the store is left as it was for that part)."""
    result = service.retention.run_once()
    folded = (result.get("downsample") or {}).get("readings_folded", 0)
    pruned = (result.get("dead_letters") or {}).get("deleted", 0)
    note_audit(request, "store", f"readings folded {folded}, dead letters deleted {pruned}; errors {len(result['errors'])}")
    return result if result["ok"] else JSONResponse(result, status_code=500)


@router.post("/api/admin/backup", dependencies=[Depends(require_admin)])
def backup(request: Request, service: PlantService = Depends(get_service)) -> dict:
    """Write every table of the store to Parquet under ``<home>/backups/<UTC time>/`` from one
    snapshot while ingest goes on; returns the folder and the manifest (row counts, schema version)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = path_under(service.settings.home, "backups", f"backup-{stamp}", what="backup folder")
    manifest = service.store.backup(folder)
    note_audit(request, str(folder.name), ", ".join(f"{t} {info['rows']}" for t, info in manifest["tables"].items()))
    return {"path": str(folder.resolve()), **manifest}
