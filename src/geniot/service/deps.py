"""Dependencies shared by the routers: the running service and the write token."""

from __future__ import annotations

import hmac

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from geniot.service.state import PlantService

_bearer = HTTPBearer(auto_error=False)


def get_service(request: Request) -> PlantService:
    service = request.app.state.service
    if not service.running:
        raise HTTPException(503, "the service is not running (its lifespan has not started)")
    return service


def require_token(
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    service: PlantService = Depends(get_service),
) -> None:
    """Writes need ``Authorization: Bearer <GENIOT_TOKEN>``; with no token configured, writes
    are refused rather than left open."""
    expected = service.settings.token
    if not expected:
        raise HTTPException(403, "writes are disabled: start the service with a token (GENIOT_TOKEN or --token)")
    if credentials is None or not hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})


def allow_read(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    service: PlantService = Depends(get_service),
) -> None:
    """Reads are open when ``open_reads`` is on (the default, for localhost); else they need the token."""
    if service.settings.open_reads:
        return
    require_token(credentials, service)


# Scoped access (read / ingest / admin). For now every scope is the one token; the access work
# replaces these with scoped tokens. Routers depend on these names.
def require_ingest(
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    service: PlantService = Depends(get_service),
) -> None:
    require_token(credentials, service)


def require_admin(
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    service: PlantService = Depends(get_service),
) -> None:
    require_token(credentials, service)


def request_actor(request: Request) -> str:
    """Who made the request, for the audit table (the token's name once tokens are scoped)."""
    return "token" if request.headers.get("authorization") else "anonymous"
