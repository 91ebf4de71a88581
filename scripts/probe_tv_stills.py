"""Would the scale itself fail a mildly degraded TV still or web copy?

Real degraded faces (the KAIR stills) are mildly soft *and* mildly compressed: a face that went down
to a low resolution, through JPEG there, and back up. This sends the clean test-split faces of
DATA_DIR down to ``side`` px, through JPEG at quality ``q`` there, and back up to 256 px, then prints
the median focus and noise labels the ladder would give them (focus: the Gaussian-equivalent blur of
the trip without JPEG, ``degrade.equivalent_blur_sigma``; noise: what JPEG added, upscaled, as
``scale.noise_strength`` weighs compression), the share that pass both by those labels, and the
same from each model. Where the labels pass most faces, a model that passes them is right by the
scale, and failing such stills is a matter for the scale, not the model. In brackets, the share
that pass under the default verdict rule, ``budget`` (``clairvoyance.verdict``: losses on the axes
add up, lighting included, labelled 1 here), which is how the product fails mild combined defects.

Usage: python scripts/probe_tv_stills.py DATA_DIR [--model NAME ...]
"""
from __future__ import annotations

import cv2
import numpy as np

from clairvoyance import degrade, scale, verdict
from clairvoyance.training.probe import probe_setup

#: (side in px, JPEG quality at that side)
TRIPS = [(120, 40), (120, 60), (140, 40), (140, 60), (160, 40), (160, 60)]


def _up(a: np.ndarray) -> np.ndarray:
    return cv2.resize(a, (256, 256), interpolation=cv2.INTER_CUBIC)


def tv_still(img: np.ndarray, side: int, quality: int, mask: np.ndarray) -> tuple[np.ndarray, float, float]:
    """The degraded face and its focus and noise labels."""
    small = cv2.resize(img, (side, side), interpolation=cv2.INTER_AREA)
    soft, out = _up(small), _up(degrade.jpeg(small, quality))
    sigma = degrade.equivalent_blur_sigma(img, soft, mask)
    noise = scale.noise_strength(0.0, degrade.noise_level(soft, out))
    return out, scale.score_from_strength("focus", sigma), scale.score_from_strength("noise", noise)


def main() -> None:
    crops, models, mask = probe_setup(__doc__)
    print(f"{len(crops.images)} clean test-split faces; a face passes when focus and noise are both >= 0.5")
    for side, quality in TRIPS:
        done = [tv_still(img, side, quality, mask) for img in crops.images]
        x = np.stack([d[0] for d in done])
        labels = np.array([d[1:] for d in done])
        in_budget = lambda s: verdict.passes(s, (0.5, 0.5, 0.5), "budget").mean()
        line = (f"down to {side} px, JPEG q {quality}: labels focus {np.median(labels[:, 0]):.2f} noise "
                f"{np.median(labels[:, 1]):.2f}, pass {(labels >= 0.5).all(1).mean():.0%} "
                f"({in_budget(np.c_[labels, np.ones(len(labels))]):.0%})")
        for m in models:
            p = m.predict_array(x, batch=32, native_sizes=np.full(len(x), 256))
            line += (f" | {m.label} focus {np.median(p[:, 0]):.2f} noise {np.median(p[:, 1]):.2f}, "
                     f"pass {(p[:, :2] >= 0.5).all(1).mean():.0%} ({in_budget(p):.0%})")
        print(line)


if __name__ == "__main__":
    main()
