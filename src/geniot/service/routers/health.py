"""`/api/health` (status for everyone, details for callers allowed to read) and `/api/ready`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from geniot.service.deps import get_service, may_read
from geniot.service.state import PlantService

router = APIRouter(tags=["health"])


@router.get("/api/health")
def health(request: Request, service: PlantService = Depends(get_service)) -> dict:
    """Status ("ok", "degraded" or "failing") for anyone; with open reads or a token of any scope
    also the problems, counters and the state of the writer, MQTT and scoring threads."""
    full = service.health()
    if may_read(request):
        return full
    return {"status": full.get("status", "unknown")}


@router.get("/api/ready", responses={503: {"description": "not ready; the problems say why"}})
def ready(request: Request, service: PlantService = Depends(get_service)) -> JSONResponse:
    """200 when the service can take and store readings, else 503 (for load balancers and
    orchestrators). The problems are listed for callers allowed to read."""
    ok, problems = readiness(service)
    body = {"ready": ok, "problems": problems} if may_read(request) else {"ready": ok}
    return JSONResponse(body, status_code=200 if ok else 503)


def readiness(service: PlantService) -> tuple[bool, list[str]]:
    check = getattr(service, "ready", None)
    if callable(check):
        ok, problems = check()
        return bool(ok), [str(p) for p in problems]
    # a service without ready(): ready unless its health says it is failing
    health = service.health()
    return health.get("status") != "failing", [str(p) for p in health.get("problems", [])]
