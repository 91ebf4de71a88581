"""Does a model take directional light for bad exposure?

Real portraits in natural light are lit from one side (a window, the sun, a hat's brim); studio
faces, most of the training sources, are evenly lit. This relights the clean test-split faces of
DATA_DIR with a smooth side-to-side gain of +-``stops`` (in linear light, the face's mean
log-luminance kept), prints the lighting label the ladder would give them (the measured exposure
error, ``degrade.exposure_error``: about 0, so about 1) and each model's median lighting score and
pass rates under the ``budget`` and ``per-axis`` rules. A model that scores these faces well below
their label reads natural light as a defect (version 11 scored the Kodak portrait ``kodim04``,
lit from above under a hat, 0.55 on lighting).

Usage: python scripts/probe_directional_light.py DATA_DIR [--model NAME ...]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from clairvoyance import degrade, scale, verdict
from clairvoyance.scoring import default_model_name, get_model
from clairvoyance.training.dataset import Crops

#: Side-to-side gains tried, in stops from the face's middle to each side.
STOPS = (0.0, 0.5, 1.0, 1.5)


def side_lit(img: np.ndarray, stops: float, mask: np.ndarray) -> np.ndarray:
    """``img`` lit brighter on the right and darker on the left by up to ``stops``, with the face's
    mean log-luminance unchanged."""
    lin = degrade.srgb_to_linear(img)
    ramp = np.linspace(-stops, stops, img.shape[1], dtype=np.float32)[None, :, None]
    out = lin * np.exp2(ramp)
    lum = lambda x: np.log2(x @ degrade.LUMA + 1e-3)[mask].mean()
    return degrade.linear_to_srgb(out * np.exp2(lum(lin) - lum(out)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--model", action="append", help="model name or file (repeatable); default: the default")
    a = ap.parse_args()
    crops = Crops.load(a.data_dir, "test")
    models = [get_model(n) for n in a.model or [default_model_name()]]
    mask = degrade.face_mask(256) > 0.5
    print(f"{len(crops.images)} clean test-split faces lit from the side")
    for stops in STOPS:
        x = np.stack([side_lit(img, stops, mask) for img in crops.images])
        label = np.median([scale.score_from_strength("lighting", degrade.exposure_error(c, s, mask))
                           for c, s in zip(crops.images, x)])
        line = f"+-{stops:.1f} stops: lighting label {label:.2f}"
        for m in models:
            p = m.predict_array(x, batch=32, native_sizes=crops.natives)
            line += (f" | {m.label} lighting {np.median(p[:, 2]):.2f}, pass "
                     f"{verdict.passes(p, (0.5,) * 3, 'budget').mean():.0%} "
                     f"({verdict.passes(p, (0.5,) * 3, 'per-axis').mean():.0%})")
        print(line)


if __name__ == "__main__":
    main()
