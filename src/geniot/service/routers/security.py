"""Security detection: which detector is active, its status and recent events; activate one."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request

from geniot.core.exceptions import GeniotError
from geniot.service.deps import allow_read, get_service, note_audit, require_admin
from geniot.service.schemas import SecurityActivateRequest
from geniot.service.state import PlantService

router = APIRouter(tags=["security"])


@router.get("/api/security", dependencies=[Depends(allow_read)])
def security(service: PlantService = Depends(get_service)) -> dict:
    """The active detector (if any), the ones available in ``<home>/security``, its counters and
    its recent events (newest first; every event is also in ``/api/events``)."""
    return {**service.security.status(), "recent": service.security.events()}


@router.post("/api/security/activate", dependencies=[Depends(require_admin)])
def activate(req: SecurityActivateRequest, request: Request, service: PlantService = Depends(get_service)) -> dict:
    """Make ``<home>/security/<name>`` (written by ``geniot security fit``) the plant's security
    detector; it stays active over restarts."""
    note_audit(request, req.name, "security detector activated")
    try:
        return service.security.activate(req.name)
    except GeniotError as exc:
        raise HTTPException(404 if "no security detector" in str(exc) else 422, str(exc)) from None


@router.post("/api/security/deactivate", dependencies=[Depends(require_admin)])
def deactivate(request: Request, service: PlantService = Depends(get_service)) -> dict:
    note_audit(request, service.security.name or "", "security detector deactivated")
    return {"deactivated": service.security.deactivate()}
