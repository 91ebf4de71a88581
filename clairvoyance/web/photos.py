"""The IQA browser's API: pick or upload a photo, see its faces and scores, correct a failing face.

Verdicts are not computed here: the page has the scores and applies the tolerance sliders itself,
live. Each page's data is built by one function (``photo_list``, ``photo_data``, ``correction``);
the routes only check input and call them.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile
from pydantic import BaseModel, Field

from .. import detection
from ..detection import DETECT_SIDE
from ..images import IMAGE_EXTENSIONS, read_photo
from ..types import AXES, Tolerances
from ..verdict import RULES
from . import images
from .safety import IMAGE_FORMATS, ApiError, image_format, not_found, resolve_inside
from .state import Analysis, WebState, get_state

router = APIRouter(prefix="/api", tags=["IQA browser"])
Axis = Literal[AXES]


# --- finding the photo a request names -------------------------------------------------------------
def source_path(state: WebState, path: str | None, upload: str | None) -> Path:
    """The file named by ``path`` (inside PHOTO_DIR) or ``upload`` (an id from POST /api/upload)."""
    if (path is None) == (upload is None):
        raise ApiError(400, "name exactly one of 'path' (a photo in the folder) or 'upload' (an uploaded photo)")
    if upload is not None:
        p = state.upload_path(upload)
        if p is None:
            raise not_found("upload")
        return p
    if state.photo_dir is None:
        raise ApiError(404, "no photo folder: start the server with `clairvoyance serve PHOTO_DIR`")
    p = resolve_inside(state.photo_dir, path, "photo")
    if p.suffix.lower() not in IMAGE_EXTENSIONS:
        raise ApiError(415, f"not a photo: {path}")
    return p


def _query(path: str | None, upload: str | None) -> str:
    return urlencode({"path": path} if path is not None else {"upload": upload})


# --- the data of each view -----------------------------------------------------------------------------
def photo_list(state: WebState, offset: int = 0, limit: int = 500) -> dict:
    """The photos under PHOTO_DIR (as ``clairvoyance run`` would scan them), with thumbnail URLs."""
    from ..pipeline import scan

    if state.photo_dir is None:
        return {"folder": None, "total": 0, "photos": []}
    files, _ = scan(state.photo_dir)
    root = state.photo_dir.resolve()
    rels = [p.relative_to(root).as_posix() for p in files if p.suffix.lower() in IMAGE_EXTENSIONS]
    page = rels[offset : offset + limit]
    return {"folder": state.photo_dir.name, "total": len(rels), "offset": offset,
            "photos": [{"path": r, "thumb": "/api/thumb?" + urlencode({"path": r})} for r in page]}


def analyse(state: WebState, p: Path) -> Analysis:
    """Faces and scores of the photo at ``p`` (cached by path, size and modification time)."""
    st = p.stat()

    def make() -> Analysis:
        with state.compute_lock:
            photo = read_photo(p, max_side=DETECT_SIDE)
            faces = detection.subjects(photo, state.detector, state.min_face)
            scores = state.model.score_faces(faces)
        # a whole image's areas are only for scoring: the cache keeps the crops it shows
        return Analysis(p, photo.size, tuple(replace(f, tiles=None) for f in faces), tuple(scores))

    return state.analyses.get((str(p), st.st_mtime_ns, st.st_size), make)


def photo_data(state: WebState, path: str | None, upload: str | None) -> dict:
    """What the browser shows of one photo: the image, every face's box, crop and scores."""
    p = source_path(state, path, upload)
    a = analyse(state, p)
    q = _query(path, upload)
    return {
        "source": {"path": path} if path is not None else {"upload": upload},
        "name": Path(path).name if path is not None else "uploaded photo",
        "width": a.size[0], "height": a.size[1],
        "image": f"/api/image?{q}",
        "model": state.model.label, "detector": state.detector, "min_face": state.min_face,
        "tolerances": state.tolerances.as_dict(), "verdict": state.tolerances.rule,
        "faces": [{"index": i, "box": f.box.as_list(), "whole_image": f.whole_image, "native_size": f.native_size,
                   "scores": s.as_dict(), "crop": images.data_url(images.jpeg(f.crop))}
                  for i, (f, s) in enumerate(zip(a.faces, a.scores))],
    }


def correction(state: WebState, path: str | None, upload: str | None, face: int, tolerances: Tolerances,
               axes: list[str] | None = None) -> dict:
    """Correct face ``face`` on ``axes`` (default: those failing ``tolerances``), paste it back into the
    full-resolution photo, and re-score it: before/after crops and scores, and the corrected photo."""
    p = source_path(state, path, upload)
    a = analyse(state, p)
    if not 0 <= face < len(a.faces):
        raise ApiError(404, f"face {face} not found: the photo has {len(a.faces)} face(s), numbered from 0")
    f, before = a.faces[face], a.scores[face]
    asked = axes
    axes = [x for x in AXES if x in (axes or tolerances.failed(before))]
    if not axes:
        raise ApiError(400, f"face {face + 1} passes every axis at these tolerances: nothing to correct")
    from ..pipeline import Clairvoyance

    with state.compute_lock:
        full = read_photo(p)
        cv = Clairvoyance(model=state.model, tolerances=tolerances, detector=state.detector, min_face=state.min_face)
        # as `run` does: axes the correction pushed over get a second round, unless the axes were chosen
        fixed, crops, scores, done = cv.correct_and_rejudge(
            full.rgb, list(a.faces), [axes if i == face else [] for i in range(len(a.faces))], second_round=not asked)
        after_crop, after, axes = crops[face], scores[face], done[face]
    return {
        "face": face, "axes": axes, "corrector": cv.corrector.label,
        "before": {"crop": images.data_url(images.jpeg(f.crop)), "scores": before.as_dict(),
                   "failed": tolerances.failed(before)},
        "after": {"crop": images.data_url(images.jpeg(after_crop)), "scores": after.as_dict(),
                  "failed": tolerances.failed(after)},
        "passes": not tolerances.failed(after),
        "photo": images.data_url(images.jpeg(fixed, 88, max_side=images.DISPLAY_SIDE)),
    }


# --- routes --------------------------------------------------------------------------------------------------
class CorrectRequest(BaseModel):
    path: str | None = Field(None, description="A photo inside PHOTO_DIR, relative to it.")
    upload: str | None = Field(None, description="An upload id returned by POST /api/upload.")
    face: int = Field(0, ge=0, description="Index of the face in GET /api/photo's list.")
    tolerances: dict[Axis, float] = Field(default_factory=dict, description="Minimum score per axis (0-1).")
    verdict: Literal[RULES] | None = Field(
        None, description="How the axes combine (default: the server's): budget (losses add up) or per-axis.")
    axes: list[Axis] | None = Field(None, description="Axes to correct; default: those failing the tolerances.")


@router.get("/photos", summary="Photos in PHOTO_DIR")
def get_photos(offset: int = Query(0, ge=0), limit: int = Query(500, ge=1, le=5000),
               state: WebState = Depends(get_state)) -> dict:
    return photo_list(state, offset, limit)


@router.get("/photo", summary="A photo's faces, boxes and scores")
def get_photo(path: str | None = None, upload: str | None = None, state: WebState = Depends(get_state)) -> dict:
    return photo_data(state, path, upload)


@router.get("/image", summary="The photo, upright, at display size (JPEG)",
            response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
def get_image(path: str | None = None, upload: str | None = None, state: WebState = Depends(get_state)) -> Response:
    p = source_path(state, path, upload)
    st = p.stat()
    data = state.thumbs.get(("image", str(p), st.st_mtime_ns, st.st_size),
                            lambda: images.rendition(p, images.DISPLAY_SIDE))
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-cache"})


@router.get("/thumb", summary="A thumbnail of a photo in PHOTO_DIR (JPEG)",
            response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
def get_thumb(path: str, size: int = Query(240, ge=32, le=1024), state: WebState = Depends(get_state)) -> Response:
    p = source_path(state, path, None)
    st = p.stat()
    data = state.thumbs.get(("thumb", str(p), st.st_mtime_ns, st.st_size, size), lambda: images.rendition(p, size, 80))
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-cache"})


@router.post("/upload", summary="Upload a photo (checked by content; size-limited)")
async def post_upload(file: UploadFile = File(..., description="A JPEG, PNG, TIFF, WebP, BMP or HEIC photo (camera RAW: from PHOTO_DIR)."),
                      state: WebState = Depends(get_state)) -> dict:
    data = await file.read()
    if not data:
        raise ApiError(400, "empty upload")
    fmt = image_format(data)
    uid = state.store_upload(data, IMAGE_FORMATS[fmt])
    p = state.upload_path(uid)
    try:
        read_photo(p, max_side=64)  # refuse truncated or oversized images now, not on first view
    except Exception:
        p.unlink(missing_ok=True)
        raise
    return {"upload": uid, "name": Path(file.filename or "photo").name, "format": fmt}


@router.post("/correct", summary="Correct a failing face and paste it back")
def post_correct(req: CorrectRequest, state: WebState = Depends(get_state)) -> dict:
    tol = Tolerances(**{**state.tolerances.as_dict(), **req.tolerances}, rule=req.verdict or state.tolerances.rule)
    return correction(state, req.path, req.upload, req.face, tol, list(req.axes) if req.axes else None)
