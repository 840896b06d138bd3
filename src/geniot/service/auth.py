"""Scoped bearer tokens (read / ingest / admin) and the ASGI gate that checks them before a
request body is read.

Tokens come from the settings: ``GENIOT_TOKEN`` (one admin token, named ``admin``),
``GENIOT_TOKENS`` (``name:scope:secret,...``) and ``GENIOT_TOKENS_FILE`` (one ``name:scope:secret``
per line, ``#`` comments). A secret written as ``sha256:<64 hex digits>`` is stored as that digest,
so the file need not hold the secret itself. Scopes nest: admin ⊇ ingest ⊇ read.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import anyio
from starlette.routing import get_route_path

from geniot.core.exceptions import GeniotError
from geniot.core.names import check_name
from geniot.core.settings import Settings

SCOPES = ("read", "ingest", "admin")  # each includes the ones before it
_RANK = {s: i for i, s in enumerate(SCOPES)}
PRINCIPAL_KEY = "geniot.principal"  # in the ASGI scope's "state": the caller, once authenticated
AUDIT_KEY = "geniot.audit"  # routers put {"target", "detail"} here to say what a write touched


class TokenConfigError(GeniotError, ValueError):
    """A token entry that cannot be used; the message names where it came from."""


@dataclass(frozen=True)
class Principal:
    name: str
    scope: str

    def allows(self, needed: str) -> bool:
        return _RANK[self.scope] >= _RANK[needed]


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    digest: bytes  # sha256 of the secret


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _parse_entry(text: str, where: str) -> _Entry:
    parts = text.strip().split(":", 2)
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise TokenConfigError(f"{where}: a token is written name:scope:secret, got {len(parts)} part(s)")
    name, scope, secret = parts[0].strip(), parts[1].strip().lower(), parts[2].strip()
    try:
        check_name(name, "token name")
    except GeniotError as exc:
        raise TokenConfigError(f"{where}: {exc}") from None
    if scope not in _RANK:
        raise TokenConfigError(f"{where}: token {name!r} has scope {scope!r}; use one of {', '.join(SCOPES)}")
    if secret.lower().startswith("sha256:"):
        hexdigest = secret[7:]
        try:
            digest = bytes.fromhex(hexdigest)
        except ValueError:
            digest = b""
        if len(digest) != 32:
            raise TokenConfigError(f"{where}: token {name!r}: sha256: must be followed by 64 hex digits")
    else:
        digest = _digest(secret)
    return _Entry(Principal(name, scope), digest)


class TokenTable:
    """The configured tokens; :meth:`authenticate` compares in constant time against every one."""

    def __init__(self, entries: list[_Entry]) -> None:
        names, digests = set(), set()
        for e in entries:
            if e.principal.name in names:
                raise TokenConfigError(f"two tokens are named {e.principal.name!r}; names identify writers in the audit table")
            if e.digest in digests:
                raise TokenConfigError(f"token {e.principal.name!r} has the same secret as another token")
            names.add(e.principal.name)
            digests.add(e.digest)
        self._entries = tuple(entries)

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenTable:
        entries = []
        if settings.token:
            entries.append(_Entry(Principal("admin", "admin"), _digest(settings.token)))
        for i, item in enumerate((settings.tokens or "").split(",")):
            if item.strip():
                entries.append(_parse_entry(item, f"GENIOT_TOKENS entry {i + 1}"))
        if settings.tokens_file is not None:
            path = Path(settings.tokens_file)
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise TokenConfigError(f"tokens file {str(path)!r} cannot be read: {exc.strerror or exc}") from None
            for n, line in enumerate(lines, start=1):
                if line.strip() and not line.lstrip().startswith("#"):
                    entries.append(_parse_entry(line, f"tokens file {str(path)!r} line {n}"))
        return cls(entries)

    def __bool__(self) -> bool:
        return bool(self._entries)

    def names(self) -> list[tuple[str, str]]:
        return [(e.principal.name, e.principal.scope) for e in self._entries]

    def authenticate(self, secret: str) -> Principal | None:
        presented = _digest(secret)
        found = None
        for entry in self._entries:  # no early exit: the time does not depend on which one matched
            if hmac.compare_digest(presented, entry.digest):
                found = entry.principal
        return found


@dataclass(frozen=True)
class Refusal:
    status: int
    detail: str


def bearer_secret(headers) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (ASGI header pairs or a mapping)."""
    value = None
    if isinstance(headers, list | tuple):
        for name, raw in headers:
            if name == b"authorization":
                value = raw.decode("latin-1")
                break
    else:
        value = headers.get("authorization")
    if not value:
        return None
    kind, _, token = value.strip().partition(" ")
    return token.strip() if kind.lower() == "bearer" and token.strip() else None


def check_access(tokens: TokenTable, settings: Settings, secret: str | None, needed: str) -> Principal | Refusal | None:
    """The caller's principal, a refusal, or None for an allowed anonymous read."""
    principal = tokens.authenticate(secret) if secret else None
    if needed == "read" and settings.open_reads and principal is None:
        return None
    if not tokens:
        what = "writes are" if needed != "read" else "closed reads are"
        return Refusal(403, f"{what} disabled: start the service with a token (GENIOT_TOKEN, GENIOT_TOKENS or --token)")
    if principal is None:
        return Refusal(401, "missing or wrong bearer token" if secret else f"this needs a bearer token with scope {needed!r}")
    if not principal.allows(needed):
        return Refusal(403, f"token {principal.name!r} has scope {principal.scope!r}; this needs {needed!r}")
    return principal


def route_scope(route) -> str | None:
    """The scope a route needs, read off its dependencies (allow_read, require_ingest, require_admin)."""
    from geniot.service.deps import SCOPE_OF_DEPENDENCY

    needed: str | None = None
    stack = [getattr(route, "dependant", None)]
    while stack:
        dependant = stack.pop()
        if dependant is None:
            continue
        scope = SCOPE_OF_DEPENDENCY.get(dependant.call)
        if scope is not None and (needed is None or _RANK[scope] > _RANK[needed]):
            needed = scope
        stack.extend(dependant.dependencies)
    return needed


class AccessGate:
    """Pure ASGI middleware: for a route that needs a scope, checks the bearer token from the
    headers alone and answers 401/403 before the body is read; after an authenticated write
    (scope ingest or admin) it keeps one audit row (who, what, target, status)."""

    def __init__(self, app, tokens: TokenTable, settings: Settings, routes) -> None:
        self.app = app
        self.tokens = tokens
        self.settings = settings
        # (path regex, methods, route, scope needed) of every API route, matched here from the
        # headers alone, before the application reads anything
        self._routes = [(r.path_regex, r.methods, r, route_scope(r)) for r in routes if hasattr(r, "path_regex")]
        self.audit_failures = 0

    def _find_route(self, scope):
        path = get_route_path(scope)
        for regex, methods, route, needed in self._routes:
            match = regex.match(path)
            if match and (not methods or scope["method"] in methods):
                params = {k: route.param_convertors[k].convert(v) for k, v in match.groupdict().items()}
                return route, needed, params
        return None, None, {}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        route, needed, path_params = self._find_route(scope)
        if needed is None:
            return await self.app(scope, receive, send)
        result = check_access(self.tokens, self.settings, bearer_secret(scope.get("headers", [])), needed)
        if isinstance(result, Refusal):
            return await _refuse(send, result)
        state = scope.setdefault("state", {})
        state[PRINCIPAL_KEY] = result
        if needed == "read" or result is None or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)  # not a write: nothing to audit
        status, recorded = 500, False

        async def record() -> None:
            nonlocal recorded
            recorded = True
            note = state.get(AUDIT_KEY) or {}
            action = f"{scope['method']} {getattr(route, 'path', scope['path'])}"
            target = note.get("target") or ",".join(str(v) for v in path_params.values())
            detail = f"status {status}" + (f"; {note['detail']}" if note.get("detail") else "")
            await self._audit(scope, result.name, action, target, detail)

        async def audited_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body") and not recorded:
                await record()  # before the last byte: a client that has its answer finds the row
            await send(message)

        try:
            await self.app(scope, receive, audited_send)
        finally:
            if not recorded:
                await record()

    async def _audit(self, scope, actor: str, action: str, target: str, detail: str) -> None:
        service = scope["app"].state.service
        try:
            await anyio.to_thread.run_sync(service.store.record_audit, actor, action, target, detail)
        except Exception as exc:  # the write happened; a lost audit row is said out loud
            self.audit_failures += 1
            print(f"geniot: audit row not kept ({actor} {action} {target}): {type(exc).__name__}: {exc}", file=sys.stderr)


async def _refuse(send, refusal: Refusal) -> None:
    body = json.dumps({"detail": refusal.detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if refusal.status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    # the body was not read: tell the client (and the server) this connection is done
    headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
