"""Property-based fuzzing of the REST API from its own OpenAPI spec: no input makes a 5xx, with
every scope of token (closed reads), and a token without the scope a route needs is refused."""

from __future__ import annotations

import os
import tempfile

import pytest
from hypothesis import HealthCheck, settings

schemathesis = pytest.importorskip("schemathesis")

from geniot.core.settings import Settings  # noqa: E402
from geniot.service.app import create_app  # noqa: E402
from geniot.service.auth import route_scope  # noqa: E402

_HOME = tempfile.mkdtemp(prefix="geniot-fuzz-")
TOKENS = {"read": "fuzz-read", "ingest": "fuzz-ingest", "admin": "fuzz"}
app = create_app(Settings(home=_HOME, tokens=",".join(f"{s}-token:{s}:{t}" for s, t in TOKENS.items()), open_reads=False))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)
_RANK = {None: -1, "read": 0, "ingest": 1, "admin": 2}
_SCOPES = {(m, r.path): route_scope(r) for r in app.state.api_routes for m in r.methods}
_EXAMPLES = int(os.environ.get("GENIOT_FUZZ_EXAMPLES", "25"))


@schema.parametrize()
@settings(max_examples=_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {TOKENS['admin']}"}
    response = case.call(timeout=120)  # the first question loads the assistant (slow on a busy machine)
    assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:500])


@pytest.mark.parametrize("scope", ["read", "ingest"])
@schema.parametrize()
@settings(max_examples=max(3, _EXAMPLES // 5), deadline=None, suppress_health_check=list(HealthCheck))
def test_lesser_scopes_get_no_server_errors_and_no_more_than_their_scope(case, scope):
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {TOKENS[scope]}"}
    response = case.call(timeout=120)  # the first question loads the assistant (slow on a busy machine)
    assert response.status_code < 500, (scope, case.method, case.path, response.status_code, response.text[:500])
    needed = _SCOPES.get((case.method.upper(), case.path))
    if _RANK[needed] > _RANK[scope]:
        assert response.status_code == 403, (scope, needed, case.method, case.path, response.status_code)


def test_the_spec_knows_every_scoped_route():
    assert _SCOPES[("POST", "/api/ingest")] == "ingest" and _SCOPES[("DELETE", "/api/models/{name}")] == "admin"
    assert _SCOPES[("GET", "/api/assets")] == "read" and _SCOPES[("GET", "/api/audit")] == "admin"
