"""Dependencies shared by the routers: the running service and scoped access.

Each route declares the scope it needs with one of ``allow_read``, ``require_ingest`` or
``require_admin``. The :class:`~geniot.service.auth.AccessGate` middleware reads the same
declaration and checks the token before the body is read; these dependencies check again (so a
route is never open by a missing middleware) and put the ``Bearer`` scheme into the OpenAPI spec.
"""

from __future__ import annotations

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from geniot.service.auth import (
    AUDIT_KEY,
    PRINCIPAL_KEY,
    Principal,
    Refusal,
    TokenTable,
    bearer_secret,
    check_access,
)
from geniot.service.state import PlantService

_bearer = HTTPBearer(auto_error=False, description="a token with scope read, ingest or admin")


def get_service(request: Request) -> PlantService:
    service = request.app.state.service
    if not service.running:
        raise HTTPException(503, "the service is not running (its lifespan has not started)")
    return service


def _tokens(request: Request) -> TokenTable:
    return request.app.state.tokens


def authorize(request: Request, needed: str) -> Principal | None:
    """The caller if allowed ``needed`` (None: an anonymous read with open reads), else 401/403."""
    state = request.scope.setdefault("state", {})
    result = check_access(_tokens(request), request.app.state.service.settings, bearer_secret(request.headers), needed)
    if isinstance(result, Refusal):
        headers = {"WWW-Authenticate": "Bearer"} if result.status == 401 else None
        raise HTTPException(result.status, result.detail, headers=headers)
    if result is not None:
        state[PRINCIPAL_KEY] = result
    return result


def may_read(request: Request) -> bool:
    """Whether this caller may see read-only details (open reads, or a token of any scope)."""
    try:
        authorize(request, "read")
    except HTTPException:
        return False
    return True


def allow_read(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
    """Reads are open with ``open_reads`` (the default, for localhost); else they need a token."""
    authorize(request, "read")


def require_ingest(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
    """Writing readings: a token with scope ingest or admin."""
    authorize(request, "ingest")


def require_admin(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
    """Models, deletions, the audit table: a token with scope admin."""
    authorize(request, "admin")


require_token = require_admin  # the one token of earlier versions was an admin token

SCOPE_OF_DEPENDENCY = {allow_read: "read", require_ingest: "ingest", require_admin: "admin"}


def request_actor(request: Request) -> str:
    """Who made the request, for the audit table: the token's name, or ``anonymous``."""
    principal = request.scope.get("state", {}).get(PRINCIPAL_KEY)
    if principal is None:
        secret = bearer_secret(request.headers)
        principal = _tokens(request).authenticate(secret) if secret else None
    return principal.name if principal is not None else "anonymous"


def note_audit(request: Request, target: str, detail: str = "") -> None:
    """Say what a write touched (the model or assets); the gate writes the audit row with it."""
    request.scope.setdefault("state", {})[AUDIT_KEY] = {"target": target, "detail": detail}
