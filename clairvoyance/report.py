"""The run report: report.json (the contract) and report.csv (one row per face)."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .publish import write_text
from .types import AXES, ImageResult, Tolerances

REPORT_VERSION = 1


def report_dict(images: list[ImageResult], tolerances: Tolerances, model: str, detector: str,
                policy: str, skipped: list[str], pruned: list[str] | None = None, min_face: int | None = None) -> dict:
    """The report of a run; ``pruned`` lists the outputs of earlier runs that this one removed because a
    photo's verdict changed; ``min_face``, the smallest face side judged (original pixels)."""
    return {
        "version": REPORT_VERSION,
        "tolerances": tolerances.as_dict(),
        "verdict": tolerances.rule,
        "model": model,
        "detector": detector,
        "policy": policy,
        "min_face": min_face,
        "images": [r.as_dict() for r in images],
        "skipped": skipped,
        "pruned": list(pruned or []),
    }


def report_csv(images: list[ImageResult]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["file", "status", "face", "x", "y", "w", "h", *AXES, "failed", "outputs", "error", "reason"])
    for r in images:
        outs = ";".join(r.outputs)
        if not r.faces:
            w.writerow([r.file, r.status, "", "", "", "", "", "", "", "", "", outs, r.error or "", r.reason])
        for i, f in enumerate(r.faces, 1):
            s = f.scores.as_dict()
            w.writerow([r.file, r.status, i, *f.box.as_list(), *(s[a] for a in AXES), ";".join(f.failed),
                        outs, r.error or "", r.reason])
    return buf.getvalue()


def write_report(out_dir: Path, report: dict, images: list[ImageResult]) -> tuple[Path, Path]:
    j, c = out_dir / "report.json", out_dir / "report.csv"
    write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", j)
    write_text(report_csv(images), c)
    return j, c
