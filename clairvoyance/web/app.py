"""The app factory: ``create_app(photo_dir, db_path, ...)`` builds the FastAPI app; nothing runs here.

Pages are static HTML/JS/CSS (package data, no build step) that call the JSON API under ``/api/``;
the API is documented at ``/docs`` (OpenAPI). ``clairvoyance serve`` only builds this app and runs
it under uvicorn.
"""
from __future__ import annotations

import os
import shutil
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from .. import __version__, detection
from ..storage import Storage
from ..training.dataset import MANIFEST
from ..types import Tolerances
from . import photos, runs, studio
from .safety import LOCAL_HOSTS, BodyLimit, LocalOnly, install_error_handlers
from .state import WebState

STATIC = Path(__file__).resolve().parent / "static"
#: The pages: URL -> HTML file in ``static/``.
PAGES = {"/": "browser.html", "/folder": "folder.html", "/chart": "chart.html", "/studio": "studio.html"}
#: Default upload limit.
MAX_UPLOAD_MB = 50


def create_app(photo_dir: str | os.PathLike | None = None, db_path: str | os.PathLike = ":memory:",
               data_dir: str | os.PathLike | None = None, model: str | None = None,
               detector: str = detection.DEFAULT_DETECTOR, tolerances=(0.5, 0.5, 0.5),
               max_upload_mb: float = MAX_UPLOAD_MB, hosts: tuple[str, ...] = ()) -> FastAPI:
    """The web app over ``photo_dir`` (the IQA browser and folder view) and ``data_dir`` (a dataset made
    by ``clairvoyance dataset build``, for the labelling studio), keeping labels in ``db_path``.

    When ``data_dir`` is not given and ``photo_dir`` holds a ``manifest.csv``, ``photo_dir`` is the dataset.
    ``model`` names the quality model (default: the shipped learned one); it loads on first use.
    Only requests addressed to localhost or one of ``hosts`` are answered.
    """
    photo = Path(photo_dir) if photo_dir is not None else None
    if photo is not None and not photo.is_dir():
        raise NotADirectoryError(f"photo folder not found: {photo}")
    data = Path(data_dir) if data_dir is not None else None
    if data is None and photo is not None and (photo / MANIFEST).is_file():
        data = photo
    if model is not None:  # an unknown name fails now, with the list of valid ones, not on the first request
        from ..scoring import get_model
        get_model(model)
    detection.get_detector(detector)
    state = WebState(photo_dir=photo, data_dir=data, db=Storage(db_path), model_name=model, detector=detector,
                     tolerances=Tolerances.coerce(tolerances), max_upload_bytes=int(max_upload_mb * 1e6))
    if data is not None:
        state.db.set_meta("dataset", str(data.resolve()))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        state.db.close()
        shutil.rmtree(state.upload_dir, ignore_errors=True)

    app = FastAPI(title="Clairvoyance", version=__version__, lifespan=lifespan,
                  description="The IQA browser and the assisted-labelling studio. Every page is built from "
                              "this JSON API; errors come back as `{\"detail\": message}`.")
    app.state.cv = state
    install_error_handlers(app)
    for r in (photos.router, runs.router, studio.router):
        app.include_router(r)

    @app.get("/api/info", tags=["app"], summary="What this server serves")
    def info() -> dict:
        return {"version": __version__, "photo_dir": photo.name if photo else None,
                "dataset": data.name if data else None, "model": state.model.label,
                "detector": detector, "min_face": state.min_face, "tolerances": state.tolerances.as_dict(),
                "verdict": state.tolerances.rule, "max_upload_mb": state.max_upload_bytes / 1e6,
                "schema_version": state.db.version}

    for url, name in PAGES.items():
        app.add_api_route(url, _page(name), include_in_schema=False, methods=["GET"])
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    app.add_middleware(BodyLimit, limit=state.max_upload_bytes)
    app.add_middleware(LocalOnly, hosts=(*LOCAL_HOSTS, *hosts))
    return app


def _page(name: str):
    def page() -> FileResponse:
        return FileResponse(STATIC / name, headers={"Cache-Control": "no-cache"})
    page.__name__ = f"page_{Path(name).stem}"
    return page
