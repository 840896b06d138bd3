"""`GET /api/audit`: every write through the API (who, what, on what, when), newest first."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from geniot.service.deps import get_service, require_admin
from geniot.service.routers._common import frame_records
from geniot.service.state import PlantService

router = APIRouter(tags=["audit"])


@router.get("/api/audit", dependencies=[Depends(require_admin)])
def audit(limit: int = Query(100, ge=1, le=10_000), service: PlantService = Depends(get_service)) -> list[dict]:
    """Rows of (ts, actor = the token's name, action = method and route, target, detail = status...)."""
    return frame_records(service.store.audit_log(limit))
