"""Does a model take sharpening for focus?

Real camera JPEGs, TV stills and web copies are sharpened: edges come back crisp while the fine
detail a blur or a low resolution took stays lost. This scores the clean test-split faces of
DATA_DIR softened (a Gaussian blur, or a trip down to 100 px and back) with and without an unsharp
mask after it, and prints the median focus label (the ladder's: the Gaussian-equivalent blur of the
softening, ``degrade.equivalent_blur_sigma``; sharpening leaves it as it was), the median focus score
and the share that pass (under the default verdict rule, ``budget``, and in brackets the 2018
report's ``per-axis``): a model that judges focus by edge contrast passes the sharpened soft faces.

Usage: python scripts/probe_sharpened_faces.py DATA_DIR [--model NAME ...]
"""
from __future__ import annotations

import cv2
import numpy as np

from clairvoyance import degrade, scale
from clairvoyance.training.probe import pass_rates, probe_setup


def from_100px(a: np.ndarray) -> np.ndarray:
    small = cv2.resize(a, (100, 100), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (256, 256), interpolation=cv2.INTER_CUBIC)


def _same(a: np.ndarray) -> np.ndarray:
    return a


def _usm(radius: float, amount: float):
    return lambda a: degrade.unsharp_mask(a, radius, amount)


#: probe -> (softening, sharpening after it)
PROBES = {
    "clean": (_same, _same),
    "clean, sharpened (r 1, amount 1)": (_same, _usm(1.0, 1.0)),
    "Gaussian blur 1.5": (lambda a: degrade.gaussian_blur(a, 1.5), _same),
    "Gaussian blur 1.5, sharpened (r 2, amount 1.5)": (lambda a: degrade.gaussian_blur(a, 1.5), _usm(2.0, 1.5)),
    "from 100 px": (from_100px, _same),
    "from 100 px, sharpened (r 1.5, amount 1)": (from_100px, _usm(1.5, 1.0)),
}


def focus_label(clean: np.ndarray, soft: np.ndarray) -> float:
    """The ladder's focus label of a softened face (sharpened or not)."""
    return scale.score_from_strength("focus", degrade.equivalent_blur_sigma(clean, soft, degrade.face_mask(256) > 0.5))


def main() -> None:
    test, models, _ = probe_setup(__doc__)
    for m in models:
        print(f"## {m.label}: {len(test.images)} clean test-split faces")
        for probe, (soften, sharpen) in PROBES.items():
            soft = [soften(c) for c in test.images]
            label = np.median([focus_label(c, s) for c, s in zip(test.images, soft)])
            scores = m.predict_array([sharpen(s) for s in soft], native_sizes=list(test.natives))
            print(f"  {probe:48s} median focus label {label:.2f}  score {np.median(scores[:, 0]):.2f}"
                  f"  pass {pass_rates(scores)}")


if __name__ == "__main__":
    main()
