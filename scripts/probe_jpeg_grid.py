"""Does a model read JPEG blocking wherever the codec's 8x8 grid falls on the face?

A face cropped from a photo lands anywhere on that photo's JPEG grid, not on a block boundary. This
saves the clean test-split faces of DATA_DIR as JPEGs of quality ``q`` with the grid at several
phases (``degrade.jpeg``'s ``phase``: rows, columns) and prints, per quality, the noise label the
ladder gives them (the same at every phase) and each model's median noise score and pass share
(noise >= 0.5) at each phase. A model that learnt blocks only on the crop's own grid reads the
same artefacts as clean once they are shifted.

Usage: python scripts/probe_jpeg_grid.py DATA_DIR [--model NAME ...]
"""
from __future__ import annotations

import numpy as np

from clairvoyance import degrade, scale
from clairvoyance.training.probe import probe_setup

QUALITIES = (15, 30, 60)
PHASES = ((0, 0), (0, 2), (2, 0), (4, 4), (1, 5))


def main() -> None:
    crops, models, _ = probe_setup(__doc__)
    natives = np.full(len(crops.images), 256)
    print(f"{len(crops.images)} clean test-split faces; noise score at each grid phase (rows, columns): "
          f"median, share >= 0.5")
    for q in QUALITIES:
        x0 = np.stack([degrade.jpeg(img, q) for img in crops.images])
        label = np.median([scale.score_from_strength("noise", scale.noise_strength(0.0, degrade.noise_level(c, j)))
                           for c, j in zip(crops.images, x0)])
        line = f"JPEG q {q}: label {label:.2f}"
        for m in models:
            line += f" | {m.label}"
            for phase in PHASES:
                x = x0 if phase == (0, 0) else np.stack([degrade.jpeg(img, q, phase) for img in crops.images])
                p = m.predict_array(x, batch=32, native_sizes=natives)[:, 1]
                line += f" {phase[0]},{phase[1]}: {np.median(p):.2f} {(p >= 0.5).mean():.0%}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
