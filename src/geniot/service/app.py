"""The FastAPI application: ``create_app(settings)``; ``geniot serve`` runs it with uvicorn."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from geniot import __version__
from geniot.core.exceptions import GeniotError
from geniot.core.settings import Settings
from geniot.service.limits import BodySizeLimit
from geniot.service.routers import ask, dashboard, events, health, models, readings
from geniot.service.state import PlantService


def create_app(settings: Settings, *, simulate: bool = False, sim_assets: int = 3, auto_train: bool | None = None) -> FastAPI:
    service = PlantService(settings, simulate=simulate, sim_assets=sim_assets, auto_train=auto_train)

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
    for module in (health, readings, models, events, ask, dashboard):
        app.include_router(module.router)

    if settings.max_body_bytes:
        app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)

    @app.exception_handler(GeniotError)
    async def geniot_error(request: Request, exc: GeniotError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    return app
