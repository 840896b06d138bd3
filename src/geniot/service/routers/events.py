"""Anomaly events raised by live scoring, and the live view of one asset for the dashboard."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query

from geniot.service.deps import allow_read, get_service
from geniot.service.routers._common import clean, frame_records, iso_list, name_param, parse_time
from geniot.service.state import PlantService

router = APIRouter(tags=["events"])
SECURITY_KINDS = ("integrity", "traffic")  # what security detection stores


@router.get("/api/events", dependencies=[Depends(allow_read)])
def events(
    asset: str | None = None,
    since: str | None = Query(None, description="events still running at or after this ISO time"),
    limit: int = Query(200, ge=1, le=10_000),
    kind: Literal["process", "integrity", "traffic", "security"] | None = Query(
        None, description="only process events, integrity or traffic events, or both of those (security)"),
    service: PlantService = Depends(get_service),
) -> list[dict]:
    """Stored events, newest first; ``kind`` is process (live scoring) or integrity | traffic
    (security detection, with attack type, reason and source)."""
    asset = name_param(asset, "asset")
    kinds = None if kind is None else SECURITY_KINDS if kind == "security" else (kind,)
    return frame_records(service.store.events(asset, start=parse_time(since, "since"), limit=limit, kinds=kinds))


@router.get("/api/assets/{asset}/live", dependencies=[Depends(allow_read)])
def live(asset: str, last: int = Query(600, ge=10, le=20_000), service: PlantService = Depends(get_service)) -> dict:
    """What the dashboard draws: the last readings, live scores, gap fills and events."""
    name_param(asset, "asset")
    if asset not in service.store.assets():
        return {"asset": asset, "timestamps": [], "signals": {}, "scores": [], "events": [], "fills": []}
    series = service.store.read_wide(asset)
    ts, values = series.timestamps[-last:], series.values[-last:]
    scores = service.live.recent_scores(asset)[-last:]
    start = ts[0] if len(ts) else None
    fills = service.store.fills(asset, start=start)
    status = service.live.status().get(asset, {})
    return {
        "asset": asset,
        "timestamps": iso_list(ts),
        "signals": {c: [clean(v) for v in values[:, j]] for j, c in enumerate(series.channels)},
        "scores": {"timestamps": [clean(s[0]) if not hasattr(s[0], "isoformat") else s[0].isoformat() for s in scores],
                   "score": [clean(s[1]) for s in scores], "flag": [bool(s[2]) for s in scores],
                   "threshold": [clean(s[3]) for s in scores]},  # fmt: skip
        "threshold": status.get("threshold"),
        "events": frame_records(service.store.events(asset, start=start, limit=50)),
        "fills": frame_records(fills),
    }
