"""Does a model keep the scale's promise at its anchor points, on faces training never saw?

The README's scale says what a number means: a blur of sigma 0.5 px scores >= 0.8, 1 px about 0.5,
2 px <= 0.2; noise of 2 / 8 / 20 levels and exposure errors of 0.3 / 1 / 2 stops likewise. This
applies each anchor's degradation, alone, to the clean test-split faces of DATA_DIR: Gaussian blur,
and a defocus disk and a motion streak of the same equivalent sigma (their kernels' second moment,
as the focus label reads it); grain; under- and over-exposure. It prints the strength measured on
the face (for noise and exposure, what the ladder's labels measure: over-exposure clips, so +1 EV
measures more) and its label, then each model's median score on that axis, its 10-90% range, and
the share of faces that keep the promise (>= 0.8, <= 0.2, or at the edge within 0.15 of the label).

Usage: python scripts/check_scale.py DATA_DIR [--model NAME ...]
"""
from __future__ import annotations

import math

import numpy as np

from clairvoyance import degrade, scale
from clairvoyance.training.probe import probe_setup
from clairvoyance.types import AXES

#: What each anchor promises of a score (at the edge: near the label of the strength measured).
PROMISES = {"good": lambda s: s >= 0.8, "edge": None, "bad": lambda s: s <= 0.2}
UNITS = {"focus": "px", "noise": "levels", "lighting": "EV"}
#: The README's anchor strengths: good, edge, bad.
ANCHORS = {"focus": (0.5, 1.0, 2.0), "noise": (2.0, 8.0, 20.0), "lighting": (0.3, 1.0, 2.0)}


def kernel_of_sigma(make, sigma: float, size: float) -> np.ndarray:
    """The kernel ``make(x)`` whose equivalent sigma (``degrade.kernel_sigma``, what the ladder's
    focus label reads) is ``sigma``; ``size`` is x's nominal value for it. A small disk or streak
    drawn on pixels is wider than its nominal size says, so x is found by bisection."""
    lo, hi = 0.3 * size, 2.0 * size
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if degrade.kernel_sigma(make(mid)) < sigma else (lo, mid)
    return make((lo + hi) / 2)


def trips(rng: np.random.Generator):
    """(axis, promise, name, nominal strength, degradation) for every anchor."""
    for promise, sigma in zip(PROMISES, ANCHORS["focus"]):
        disk = kernel_of_sigma(degrade.disk_kernel, sigma, 2 * sigma)
        streak = kernel_of_sigma(lambda length: degrade.motion_kernel(length, 30.0), sigma, sigma * math.sqrt(24.0))
        yield "focus", promise, f"Gaussian blur sigma {sigma}", sigma, lambda a, s=sigma: degrade.gaussian_blur(a, s)
        yield "focus", promise, f"defocus disk sigma {sigma}", sigma, lambda a, k=disk: degrade.convolve(a, k)
        yield "focus", promise, f"motion streak sigma {sigma}", sigma, lambda a, k=streak: degrade.convolve(a, k)
    for promise, level in zip(PROMISES, ANCHORS["noise"]):
        yield "noise", promise, f"grain {level:g} levels", level, lambda a, s=level: degrade.sensor_noise(a, s, rng)
    for promise, ev in zip(PROMISES, ANCHORS["lighting"]):
        for sign in (-1, 1):
            yield "lighting", promise, f"exposure {sign * ev:+g} EV", ev, lambda a, e=sign * ev: degrade.exposure(a, e)


def measured(axis: str, nominal: float, clean: list[np.ndarray], out: list[np.ndarray], mask: np.ndarray) -> float:
    """The median strength the ladder's labels would measure (blur's is its kernel's, as made)."""
    if axis == "noise":
        return float(np.median([degrade.noise_level(c, o) for c, o in zip(clean, out)]))
    if axis == "lighting":
        return float(np.median([degrade.exposure_error(c, o, mask) for c, o in zip(clean, out)]))
    return nominal


def main() -> None:
    test, models, mask = probe_setup(__doc__)
    clean = list(test.images)
    print(f"{len(clean)} clean test-split faces: the strength measured, its label, and per model the median "
          "score [10-90%] and the share keeping the promise (at the edge: within 0.15 of the label)")
    for axis, promise, name, nominal, degrade_fn in trips(np.random.default_rng(0)):
        out = [degrade_fn(c) for c in clean]
        strength = measured(axis, nominal, clean, out, mask)
        label = scale.score_from_strength(axis, strength)
        keeps = (lambda s: np.abs(s - label) <= 0.15) if promise == "edge" else PROMISES[promise]
        cells = []
        for m in models:
            s = m.predict_array(out, native_sizes=list(test.natives))[:, AXES.index(axis)]
            q10, med, q90 = np.quantile(s, [0.1, 0.5, 0.9])
            cells.append(f"{m.label} {med:.2f} [{q10:.2f}-{q90:.2f}] {keeps(s).mean():4.0%}")
        print(f"{axis:8s} {promise:4s} {name:26s} {strength:5.2f} {UNITS[axis]:6s} label {label:.2f} | "
              + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
