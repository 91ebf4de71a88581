"""The folder view's API: the runs found under PHOTO_DIR (each a ``report.json`` written by
``clairvoyance run``) and a run's photos with their verdicts and failing axes."""
from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query

from ..types import AXES, STATUSES
from .safety import ApiError, dir_inside
from .state import WebState, get_state

router = APIRouter(prefix="/api", tags=["folder view"])
REPORT = "report.json"
#: How deep under PHOTO_DIR to look for reports.
MAX_DEPTH = 3


def find_reports(root: Path, max_depth: int = MAX_DEPTH) -> list[Path]:
    """Folders under ``root`` (itself included) holding a ``report.json``; never enters Final/,
    hidden folders or symlinked folders."""
    root = root.resolve()
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        d = Path(dirpath)
        depth = len(d.relative_to(root).parts)
        dirnames[:] = sorted(n for n in dirnames if n != "Final" and not n.startswith(".")) if depth < max_depth else []
        if REPORT in filenames and not (d / REPORT).is_symlink():
            out.append(d)
    return out


def _read_report(run_dir: Path) -> dict:
    try:
        report = json.loads((run_dir / REPORT).read_text("utf-8"))
    except FileNotFoundError:
        raise ApiError(404, "no report.json in that folder") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ApiError(422, f"cannot read report.json: {e}") from None
    if not isinstance(report, dict) or not isinstance(report.get("images"), list):
        raise ApiError(422, "report.json has no 'images' list: not a Clairvoyance report")
    return report


def _counts(images: list[dict]) -> dict[str, int]:
    return {s: sum(1 for i in images if i.get("status") == s) for s in STATUSES}


def run_list(state: WebState) -> dict:
    """Every run under PHOTO_DIR with its photo counts per status."""
    if state.photo_dir is None:
        return {"runs": []}
    root = state.photo_dir.resolve()
    runs = []
    for d in find_reports(root):
        try:
            rep = _read_report(d)
        except ApiError:
            continue
        runs.append({"run": d.relative_to(root).as_posix(), "photos": len(rep["images"]),
                     "counts": _counts(rep["images"]), "model": rep.get("model"),
                     "tolerances": rep.get("tolerances")})
    return {"runs": runs}


def _thumb_for(root: Path, run_dir: Path, item: dict) -> str | None:
    """A thumbnail URL for a report entry: the original when it is beside the report (the default
    layout), else its first output (Final/...); None when neither is inside PHOTO_DIR."""
    cands = [item.get("file")] + list(item.get("outputs") or [])[:1]
    for rel in cands:
        if not isinstance(rel, str) or not rel:
            continue
        p = run_dir / rel
        try:
            p = p.resolve(strict=True)
            rel_root = p.relative_to(root).as_posix()
        except (OSError, ValueError):
            continue
        if p.is_file():
            return "/api/thumb?" + urlencode({"path": rel_root})
    return None


def run_data(state: WebState, run: str, status: str | None = None) -> dict:
    """A run's photos (optionally those of one ``status``) with verdicts, failing axes and reasons."""
    if state.photo_dir is None:
        raise ApiError(404, "no photo folder: start the server with `clairvoyance serve PHOTO_DIR`")
    if status is not None and status not in STATUSES:
        raise ApiError(400, f"unknown status {status!r}; choose one of: {', '.join(STATUSES)}")
    root = state.photo_dir.resolve()
    run_dir = dir_inside(root, run, "run folder")
    rep = _read_report(run_dir)
    images = []
    for item in rep["images"]:
        if not isinstance(item, dict):
            continue
        faces = item.get("faces") or []
        failed = sorted({a for f in faces for a in (f.get("failed") or [])}, key=lambda a: AXES.index(a) if a in AXES else 9)
        images.append({"file": item.get("file"), "status": item.get("status"), "failed": failed,
                       "faces": len(faces), "reason": item.get("reason") or "", "error": item.get("error"),
                       "outputs": item.get("outputs") or [], "thumb": _thumb_for(root, run_dir, item),
                       "open": _open_path(root, run_dir, item)})
    shown = [i for i in images if status is None or i["status"] == status]
    return {"run": run_dir.relative_to(root).as_posix(), "model": rep.get("model"), "policy": rep.get("policy"),
            "tolerances": rep.get("tolerances"), "verdict": rep.get("verdict", "per-axis"),  # older reports: per-axis
            "counts": _counts(images), "total": len(images),
            "status": status, "images": shown}


def _open_path(root: Path, run_dir: Path, item: dict) -> str | None:
    """The original's path relative to PHOTO_DIR when the browser can open it."""
    rel = item.get("file")
    if not isinstance(rel, str):
        return None
    try:
        p = (run_dir / rel).resolve(strict=True)
        return p.relative_to(root).as_posix() if p.is_file() else None
    except (OSError, ValueError):
        return None


@router.get("/runs", summary="Runs (report.json files) under PHOTO_DIR")
def get_runs(state: WebState = Depends(get_state)) -> dict:
    return run_list(state)


@router.get("/run", summary="A run's photos with verdicts and failing axes")
def get_run(run: str = Query(".", description="The run's folder relative to PHOTO_DIR ('.' for PHOTO_DIR itself)."),
            status: str | None = Query(None, description="Only photos of this status."),
            state: WebState = Depends(get_state)) -> dict:
    return run_data(state, run, status)
