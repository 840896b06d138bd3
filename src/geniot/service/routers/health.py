from __future__ import annotations

from fastapi import APIRouter, Depends

from geniot.service.deps import get_service
from geniot.service.state import PlantService

router = APIRouter(tags=["health"])


@router.get("/api/health")
def health(service: PlantService = Depends(get_service)) -> dict:
    """Liveness and counters: readings stored, ingest statistics, broker link, live scoring."""
    return service.health()
