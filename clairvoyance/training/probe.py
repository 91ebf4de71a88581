"""What the probe scripts (``scripts/probe_*.py``) share: their command line and their faces.

Each probe sends the clean test-split crops of DATA_DIR through one real-world trip (a TV still,
natural light, a sharpened soft face) and compares the ladder's labels with the models' scores.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from .. import degrade, scale, verdict
from ..scoring import default_model_name, get_model
from .dataset import Crops


def probe_setup(doc: str | None) -> tuple[Crops, list, np.ndarray]:
    """Parse ``DATA_DIR [--model NAME ...]`` (default: the default model); return the clean
    test-split crops, the models and the face mask of a 256 px crop."""
    ap = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--model", action="append", help="model name or file (repeatable); default: the default")
    a = ap.parse_args()
    models = [get_model(n) for n in a.model or [default_model_name()]]
    return Crops.load(a.data_dir, "test"), models, degrade.face_mask(256) > 0.5


def pass_rates(scores: np.ndarray, tolerance: float = 0.5) -> str:
    """The share of faces (rows of focus, noise, lighting scores) that pass under the default rule,
    ``budget``, and in brackets under the 2018 report's ``per-axis``, as the probes print it."""
    tol = (tolerance,) * 3
    return (f"{verdict.passes(scores, tol, 'budget').mean():.0%} "
            f"({verdict.passes(scores, tol, 'per-axis').mean():.0%})")


def lighting_label(clean: np.ndarray, changed: np.ndarray, mask: np.ndarray) -> float:
    """The median lighting label the ladder would give faces ``clean`` once ``changed``: their
    measured exposure error (``degrade.exposure_error`` on ``mask``) on the scale."""
    return float(np.median([scale.score_from_strength("lighting", degrade.exposure_error(c, s, mask))
                            for c, s in zip(clean, changed)]))
