"""The FastAPI application: ``create_app(settings)``; ``geniot serve`` runs it with uvicorn."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from geniot import __version__
from geniot.core.exceptions import GeniotError
from geniot.core.settings import Settings
from geniot.service.auth import AccessGate, TokenTable
from geniot.service.limits import BodySizeLimit
from geniot.service.routers import (
    admin,
    ask,
    audit,
    dashboard,
    events,
    health,
    models,
    readings,
    security,
)
from geniot.service.state import PlantService


def create_app(settings: Settings, *, simulate: bool = False, sim_assets: int = 3, auto_train: bool | None = None,
               publisher_prefix: str | None = None) -> FastAPI:  # fmt: skip
    tokens = TokenTable.from_settings(settings)  # a bad token entry stops the start, naming it
    service = PlantService(settings, simulate=simulate, sim_assets=sim_assets, auto_train=auto_train, publisher_prefix=publisher_prefix)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service.start()
        try:
            yield
        finally:
            service.stop()

    app = FastAPI(
        title="geniot plant service",
        version=__version__,
        description="Sensor readings in (MQTT, HTTP), stored in DuckDB, scored live; models, tasks and a dashboard.",
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.tokens = tokens
    routers = [m.router for m in (health, readings, models, events, security, ask, audit, admin, dashboard)]
    for router in routers:
        app.include_router(router)

    # the last added runs first: the token is checked before the body is counted or read
    if settings.max_body_bytes:
        app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.state.api_routes = [r for rt in routers for r in rt.routes]  # what the gate matches requests against
    app.add_middleware(AccessGate, tokens=tokens, settings=settings, routes=app.state.api_routes)

    @app.exception_handler(GeniotError)
    async def geniot_error(request: Request, exc: GeniotError) -> JSONResponse:
        # a workflow's domain error carries its own status (e.g. 409: the model has no calibration)
        problem = getattr(exc, "problem", None)
        body = {"detail": str(exc), **({"problem": problem} if problem else {})}
        return JSONResponse(body, status_code=int(getattr(exc, "status", 422)))

    return app
