"""The dashboard page, plotly.js served locally (no CDN), the latest synthesis report and the
demo's synthetic day of the fleet beside the real one."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response

from geniot.service.deps import allow_read, get_service
from geniot.service.state import PlantService
from geniot.workflows.demo import DAY_FILE

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def _plotly_js() -> str:
    import plotly.offline

    return plotly.offline.get_plotlyjs()


@router.get("/", response_class=HTMLResponse)
def dashboard() -> str:
    return resources.files("geniot.service").joinpath("static/dashboard.html").read_text(encoding="utf-8")


@router.get("/static/dashboard.js")
def dashboard_js() -> Response:
    js = resources.files("geniot.service").joinpath("static/dashboard.js").read_text(encoding="utf-8")
    return Response(js, media_type="application/javascript")


@router.get("/static/plotly.min.js")
def plotly_js() -> Response:
    return Response(_plotly_js(), media_type="application/javascript", headers={"Cache-Control": "max-age=86400"})


@router.get("/report", dependencies=[Depends(allow_read)])
def latest_report(service: PlantService = Depends(get_service)) -> FileResponse:
    """The newest HTML report under the service's home (e.g. the demo's synthetic-vs-real report)."""
    home = service.settings.home.resolve()
    # only regular files that are really inside home: a symlink planted there is never served
    found = [p for p in home.rglob("*.html") if p.is_file() and not p.is_symlink() and home in p.resolve().parents]
    reports = sorted(found, key=lambda p: p.stat().st_mtime)
    if not reports:
        raise HTTPException(404, "no report yet: run `geniot demo` or `geniot report`")
    return FileResponse(reports[-1], media_type="text/html")


@router.get("/api/synthetic-day", dependencies=[Depends(allow_read)])
def synthetic_day(service: PlantService = Depends(get_service)) -> dict:
    """The demo's synthetic day of the fleet and the real fleet's last day (per channel, per pump)."""
    path = service.settings.home.resolve() / DAY_FILE
    if not path.is_file() or path.is_symlink():
        raise HTTPException(404, f"no synthetic day yet: `geniot demo` writes {DAY_FILE} in the service's home")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise HTTPException(500, f"{DAY_FILE} could not be read: {exc}") from exc
