"""The README's correction figure: for each axis, a real photo degraded on that axis, then
(face before | face after | the whole photo with the corrected face pasted back).

Usage: python scripts/make_correction_grid.py [OUT.png] [--corrector learned|classical]
Photos: scikit-image's astronaut and matplotlib's Grace Hopper (real photographs shipped by pip packages).
"""
from __future__ import annotations

import argparse

import cv2
import numpy as np
from matplotlib import cbook
from PIL import Image
from skimage import data

from clairvoyance import degrade
from clairvoyance.detection import crop_square, identify, square_box
from clairvoyance.images import Photo
from clairvoyance.correction.base import default_corrector_name
from clairvoyance.pipeline import Clairvoyance


def _photo(rgb: np.ndarray) -> Photo:
    return Photo(path=None, rgb=rgb, size=(rgb.shape[1], rgb.shape[0]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default="docs/corrections.png")
    ap.add_argument("--corrector", default=None)
    a = ap.parse_args()
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        hopper = np.asarray(Image.open(f).convert("RGB"))
    astro = data.astronaut()
    rng = np.random.default_rng(0)
    cases = [("focus", astro, degrade.defocus_blur(astro, 4.0)),
             ("noise", hopper, degrade.sensor_noise(hopper, 18, rng)),
             ("lighting", astro, degrade.exposure(astro, -2.0))]
    cv = Clairvoyance(model="classical", corrector=a.corrector or default_corrector_name())
    rows = []
    for axis, clean, bad in cases:
        faces = identify(_photo(clean))[:1]
        fixed = cv.correct(bad, faces, [[axis]])
        H, W = bad.shape[:2]
        sq = square_box(faces[0].box, W, H)
        thumb = lambda im: cv2.resize(im, (int(256 * W / H), 256), interpolation=cv2.INTER_AREA)
        rows.append(np.concatenate([crop_square(bad, sq), crop_square(fixed, sq), thumb(fixed)], axis=1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    Image.fromarray(np.concatenate(rows, axis=0)).save(a.out)
    print(f"{a.out}: rows focus, noise, lighting; columns face before | face after | photo after ({cv.corrector.label})")


if __name__ == "__main__":
    main()
