"""The labelling studio's API: the calibration chart, the queue of a dataset's face crops with the
model's predictions (assisted labelling), saving labels, the CSV export and how far labels moved.

A label's ``file`` is the crop's path relative to the dataset folder, as in its ``manifest.csv``:
``clairvoyance train-iqa --data DATA_DIR --labels labels.sqlite`` finds the crops by it.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import numpy as np
from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from ..training import chart
from ..training.dataset import MANIFEST, read_manifest
from ..types import AXES
from . import images
from .safety import ApiError, resolve_inside
from .state import WebState, get_state

router = APIRouter(prefix="/api", tags=["labelling studio"])


# --- the calibration chart ---------------------------------------------------------------------------------
def chart_data() -> dict:
    """Rows of reference crops, one per axis (lighting both ways), at labels 0 .. 1."""
    return {"levels": list(chart.LEVELS), "floor": chart.FLOOR,
            "rows": [{"key": r.key, "axis": r.axis, "title": r.title, "unit": r.unit,
                      "items": [{"label": lv, "strength": round(chart.chart_crop(r.key, lv)[1], 3),
                                 "image": "/api/chart/image?" + urlencode({"row": r.key, "label": lv})}
                                for lv in chart.LEVELS]}
                     for r in chart.ROWS]}


# --- the dataset ----------------------------------------------------------------------------------------------
def _data_dir(state: WebState) -> Path:
    if state.data_dir is None or not (state.data_dir / MANIFEST).is_file():
        raise ApiError(404, "no dataset: start the server with `clairvoyance serve --data DATA_DIR`, a folder made "
                            "by `clairvoyance dataset build` (it holds manifest.csv)")
    return state.data_dir


def manifest(state: WebState) -> list[dict]:
    """The dataset's manifest rows (re-read when the file changes)."""
    d = _data_dir(state)
    st = (d / MANIFEST).stat()
    return state.thumbs.get(("manifest", str(d), st.st_mtime_ns, st.st_size), lambda: read_manifest(d))


def _row(state: WebState, file: str) -> tuple[int, dict]:
    for i, r in enumerate(manifest(state)):
        if r["crop"] == file:
            return i, r
    raise ApiError(404, f"crop not in the dataset: {file}")


def _crop_path(state: WebState, file: str) -> Path:
    _row(state, file)
    return resolve_inside(_data_dir(state), file, "crop")


def prediction(state: WebState, file: str) -> tuple[float, float, float]:
    """The model's scores for a crop, computed once per model and kept in the database, so the
    prediction a label is compared with is the one the labeller saw."""
    label = state.model.label
    cached = state.db.prediction(file, label)
    if cached is not None:
        return cached
    from PIL import Image

    _, row = _row(state, file)
    with Image.open(_crop_path(state, file)) as im:
        crop = np.asarray(im.convert("RGB").resize((256, 256)))
    with state.compute_lock:
        [s] = state.model.predict([crop], [int(float(row.get("native") or 256))])
    scores = tuple(round(float(v), 4) for v in (s.focus, s.noise, s.lighting))  # as the labeller sees it
    state.db.save_prediction(file, label, scores)
    return state.db.prediction(file, label) or scores


def queue_data(state: WebState, split: str | None = None) -> dict:
    """The crops to label (manifest order, optionally one split), which are labelled, and progress."""
    rows = [r for r in manifest(state) if split is None or r.get("split") == split]
    done = {lab.file for lab in state.db.labels()}
    items = [{"file": r["crop"], "split": r.get("split"), "source": r.get("source"), "labelled": r["crop"] in done}
             for r in rows]
    return {"dataset": _data_dir(state).name, "model": state.model.label, "split": split, "total": len(items),
            "labelled": sum(i["labelled"] for i in items), "items": items}


def item_data(state: WebState, file: str) -> dict:
    """One crop for the labelling page: its image, the model's prediction and its label if any."""
    index, row = _row(state, file)
    pred = prediction(state, file)
    lab = state.db.label(file)
    return {"file": file, "index": index, "split": row.get("split"), "source": row.get("source"),
            "image": "/api/studio/crop?" + urlencode({"file": file}), "model": state.model.label,
            "prediction": dict(zip(AXES, pred)),
            "label": lab.as_dict() if lab else None}


def stats_data(state: WebState) -> dict:
    """Progress and, per axis, the mean absolute change of the labels from the predictions."""
    try:
        total = len(manifest(state))
    except ApiError:
        total = None
    return {"total": total, "labelled": len(state.db.labels()), "mean_abs_change": state.db.mean_abs_change()}


class LabelIn(BaseModel):
    file: str = Field(..., description="The crop's path in the dataset (manifest.csv's 'crop').")
    focus: float = Field(..., ge=0, le=1)
    noise: float = Field(..., ge=0, le=1)
    lighting: float = Field(..., ge=0, le=1)
    who: str = Field("", max_length=100, description="Who labelled it.")


def save_label(state: WebState, lab: LabelIn) -> dict:
    """Save a label at once, with who, when, and the model's prediction at that time."""
    pred = prediction(state, lab.file)
    saved = state.db.save_label(lab.file, lab.focus, lab.noise, lab.lighting, who=lab.who.strip(),
                                model=state.model.label, prediction=pred)
    return {"label": saved.as_dict(), "stats": stats_data(state)}


# --- routes ----------------------------------------------------------------------------------------------------
@router.get("/chart", summary="The calibration chart: reference crops per axis at labels 0 to 1")
def get_chart() -> dict:
    return chart_data()


@router.get("/chart/image", summary="One reference crop of the chart (PNG)", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def get_chart_image(row: str, label: float, state: WebState = Depends(get_state)) -> Response:
    if row not in chart.ROW_KEYS:
        raise ApiError(404, f"unknown chart row {row!r}; choose one of: {', '.join(chart.ROW_KEYS)}")
    if label not in chart.LEVELS:
        raise ApiError(404, f"no chart crop at label {label}; levels are {', '.join(map(str, chart.LEVELS))}")
    data = state.thumbs.get(("chart", row, label), lambda: images.png(chart.chart_crop(row, label)[0]))
    return Response(data, media_type="image/png", headers={"Cache-Control": "max-age=3600"})


@router.get("/studio/queue", summary="The dataset's crops to label, and progress")
def get_queue(split: str | None = Query(None, pattern="^(train|val|test)$"),
              state: WebState = Depends(get_state)) -> dict:
    return queue_data(state, split)


@router.get("/studio/item", summary="A crop with the model's prediction and its label")
def get_item(file: str, state: WebState = Depends(get_state)) -> dict:
    return item_data(state, file)


@router.get("/studio/crop", summary="A crop of the dataset (PNG)", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def get_crop(file: str, state: WebState = Depends(get_state)) -> Response:
    return Response(_crop_path(state, file).read_bytes(), media_type="image/png")


@router.get("/studio/stats", summary="Progress and mean absolute change of labels from predictions")
def get_stats(state: WebState = Depends(get_state)) -> dict:
    return stats_data(state)


@router.put("/labels", summary="Save a label (with who, when and the model's prediction)")
def put_label(lab: LabelIn, state: WebState = Depends(get_state)) -> dict:
    return save_label(state, lab)


@router.get("/labels", summary="Every label")
def get_labels(state: WebState = Depends(get_state)) -> dict:
    return {"labels": [lab.as_dict() for lab in state.db.labels()], "stats": stats_data(state)}


@router.get("/labels.csv", summary="Every label as CSV (file,focus,noise,lighting + who, when, prediction)",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def get_labels_csv(state: WebState = Depends(get_state)) -> Response:
    return Response(state.db.export_csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="labels.csv"'})
