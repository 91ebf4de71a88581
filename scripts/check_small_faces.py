"""How small a face can the quality model judge? (what ``detection.MIN_FACE_SIDE`` rests on)

A group photo, a crowd or a person far away gives faces of a few dozen pixels. This shrinks the
clean test-split faces of DATA_DIR to a native side of N pixels (their crop's side in the photo, as
the pipeline measures it) and upscales them back as the pipeline does, sharp and blurred at that
size (a Gaussian of 0.7 px, a slight miss of focus in the photo's own pixels), and prints for each
model and size the median focus score and the share that pass, under the default verdict rule
(``budget``) and in brackets the 2018 report's ``per-axis``. A size at which the sharp faces pass
and the blurred ones fail is one the model can judge; below it, a sharp face's lack of pixels reads
as blur, and the pipeline leaves such faces out.

Usage: python scripts/check_small_faces.py DATA_DIR [--model NAME ...]
"""
from __future__ import annotations

import cv2
import numpy as np

from clairvoyance import degrade
from clairvoyance.training.probe import pass_rates, probe_setup

SIDES = (48, 64, 80, 96, 112, 128, 160)
BLUR = 0.7


def at_side(crop: np.ndarray, side: int, sigma: float = 0.0) -> np.ndarray:
    """``crop`` as a face of ``side`` native pixels (blurred by ``sigma`` of them), upscaled to 256."""
    small = cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA)
    if sigma:
        small = degrade.gaussian_blur(small, sigma)
    return cv2.resize(small, (256, 256), interpolation=cv2.INTER_CUBIC)


def main() -> None:
    test, models, _ = probe_setup(__doc__)
    for m in models:
        print(f"## {m.label}: {len(test.images)} clean test-split faces at a native side of N px")
        print(f"  {'N':>4}  {'sharp: focus, pass':24s}  blurred {BLUR} px: focus, pass")
        for side in SIDES:
            cells = []
            for sigma in (0.0, BLUR):
                scores = m.predict_array([at_side(c, side, sigma) for c in test.images],
                                         native_sizes=[side] * len(test.images))
                cells.append(f"{np.median(scores[:, 0]):.2f}, {pass_rates(scores)}")
            print(f"  {side:4d}  {cells[0]:24s}  {cells[1]}")


if __name__ == "__main__":
    main()
