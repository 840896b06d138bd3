"""Property-based fuzzing of the REST API from its own OpenAPI spec: no input makes a 5xx."""

from __future__ import annotations

import os
import tempfile

import pytest
from hypothesis import HealthCheck, settings

schemathesis = pytest.importorskip("schemathesis")

from geniot.core.settings import Settings  # noqa: E402
from geniot.service.app import create_app  # noqa: E402

_HOME = tempfile.mkdtemp(prefix="geniot-fuzz-")
app = create_app(Settings(home=_HOME, token="fuzz"))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=int(os.environ.get("GENIOT_FUZZ_EXAMPLES", "25")), deadline=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
def test_no_server_errors(case):
    case.headers = {**(case.headers or {}), "Authorization": "Bearer fuzz"}
    response = case.call()
    assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:500])
