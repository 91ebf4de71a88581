"""How a face's three scores and the user's tolerances become pass or fail.

Two rules, one per photographer's habit:

* ``budget`` (the default): each axis's loss from a perfect 1 counts as a share of what its
  tolerance allows, ``(1 - score) / (1 - tolerance)``: 1 at the tolerance. A face passes while
  the shares, each raised to the power ``POWER`` (1.25), add up to at most 1. One axis may use the
  whole allowance (a face exactly at one tolerance and perfect elsewhere passes, as under
  ``per-axis``), or several axes share it: mild defects on two or three axes together fail a face
  that each alone would not. That is how people judge photos (in Keelan's multivariate formalism
  of image quality, small losses on different attributes nearly add), and what real degraded faces
  are: TV stills and old prints are a little soft *and* a little noisy *and* a little off in
  exposure. The power makes small shares count a little less than large ones (0.2 counts 0.13,
  0.8 counts 0.76).
  Why 1.25 (``python scripts/check_real_faces.py data/faces --each``, with ``iqa-fast`` version 11,
  the default when it was chosen): with a plain sum (power 1) three of the four Kodak portraits,
  good photos in natural light, fail by 0.02-0.16; 1.25 is the most additive power, in steps of
  0.25, that keeps every clean real face (studio, press, Kodak) passing. Real degraded faces failed
  under version 11: 9 of 18 under ``per-axis``, 13 of 18 under ``budget`` (14 with power 1; version
  15: 8 and 12); the power was chosen on the clean faces, but the degraded ones were in view, so
  treat these as development figures.
  A tolerance of 0 turns its axis off; a tolerance of 1 fails any score below 1.
* ``per-axis`` (the 2018 report's rule): a face passes when every score is at least its tolerance.

When a face fails, its failing axes are the ones to correct: below its tolerance under ``per-axis``;
under ``budget``, the fewest axes, largest share first, without which the rest fit the allowance.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .types import AXES

RULES: tuple[str, ...] = ("budget", "per-axis")
DEFAULT_RULE = "budget"
#: The Minkowski power that joins the shares under ``budget`` (1 would be a plain sum).
POWER = 1.25
#: Slack for float rounding: a face exactly at one tolerance and perfect elsewhere passes.
_EPS = 1e-9


def check_rule(rule: str) -> str:
    if rule not in RULES:
        raise ValueError(f"verdict rule must be one of {RULES}, got {rule!r}")
    return rule


def shares(scores: np.ndarray, tolerances: Sequence[float]) -> np.ndarray:
    """Each axis's loss as a share of its allowance, raised to ``POWER`` (what it spends of the
    budget of 1), for scores of shape (..., 3)."""
    s = np.asarray(scores, np.float64)
    t = np.asarray(tolerances, np.float64)
    loss = np.clip(1.0 - s, 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(t >= 1.0, np.where(loss > 0, np.inf, 0.0), loss / np.maximum(1.0 - t, 1e-12))
    return np.where(t <= 0.0, 0.0, out) ** POWER


def passes(scores: np.ndarray, tolerances: Sequence[float], rule: str = DEFAULT_RULE) -> np.ndarray:
    """Whether each face of ``scores`` (shape (..., 3)) passes: a boolean array of shape (...)."""
    s = np.asarray(scores, np.float64)
    if check_rule(rule) == "per-axis":
        return (s >= np.asarray(tolerances, np.float64)).all(-1)
    return shares(s, tolerances).sum(-1) <= 1.0 + _EPS


def failed_axes(scores: Sequence[float], tolerances: Sequence[float], rule: str = DEFAULT_RULE) -> list[str]:
    """The axes a face fails on (in ``AXES`` order), empty when it passes; see the module's doc."""
    if check_rule(rule) == "per-axis":
        return [a for a, s, t in zip(AXES, scores, tolerances) if s < t]
    used = dict(zip(AXES, shares(np.asarray(scores, np.float64), tolerances).tolist()))
    out: list[str] = []
    for a in sorted(AXES, key=lambda a: -used[a]):
        if math.fsum(used[b] for b in AXES if b not in out) <= 1.0 + _EPS:
            break
        out.append(a)
    return [a for a in AXES if a in out]


def budget_used(scores: Sequence[float], tolerances: Sequence[float]) -> float:
    """How much of the allowance the losses use together, in the shares' own unit (the Minkowski
    norm of the shares): at most 1 for a face that passes under ``budget``; 1.0 for a face at one
    tolerance and perfect elsewhere."""
    return float(shares(np.asarray(scores, np.float64), tolerances).sum() ** (1.0 / POWER))
