"""How well is a photo without people judged? (what ``detection.scene_tiles`` and ``SCENE_BEST_SHARE`` rest on)

A photographer's folder holds landscapes, details and still lifes beside the portraits. With no face
of ``--min-face`` px or more, the pipeline judges the whole photo. This takes the photos of PHOTO_DIR
in which no such face is found, degrades each at the view it is judged at (its reduced decode,
``DETECT_SIDE`` px on the long side) with the scale's anchors (a Gaussian blur of 1, 2 and 3 px, grain
of 8 and 20 levels, exposure of +-1 and +-2 stops; 1 px, 8 levels and 1 stop are the edge of
acceptable) and prints, for each model, the share that pass each axis and the share that pass
under the default verdict rule (``budget``; in brackets the 2018 report's ``per-axis``), judged two
ways: ``square``, the photo's centre square reduced to 256 px as one crop (the way before), and
``tiles``, the best quarter of 256 px areas covering the view (``QualityModel.score_faces``, the
pipeline's way). A good judge passes the clean photos and fails the 2 px, 20-level and 2-stop ones.

Usage: python scripts/check_scenes.py [PHOTO_DIR] [--model NAME ...]   (default: ../shared/data/clean/kodak24)
"""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np

from clairvoyance import degrade, detection, verdict
from clairvoyance.images import IMAGE_EXTENSIONS, read_photo
from clairvoyance.scoring import default_model_name, get_model
from clairvoyance.types import AXES

CONDITIONS = {
    "clean": lambda a, rng: a,
    "blur 1 px": lambda a, rng: degrade.gaussian_blur(a, 1.0),
    "blur 2 px": lambda a, rng: degrade.gaussian_blur(a, 2.0),
    "blur 3 px": lambda a, rng: degrade.gaussian_blur(a, 3.0),
    "grain 8": lambda a, rng: degrade.sensor_noise(a, 8.0, rng, chroma=0.3, signal_dependence=0.5),
    "grain 20": lambda a, rng: degrade.sensor_noise(a, 20.0, rng, chroma=0.3, signal_dependence=0.5),
    "-1 stop": lambda a, rng: degrade.exposure(a, -1.0),
    "-2 stops": lambda a, rng: degrade.exposure(a, -2.0),
    "+1 stop": lambda a, rng: degrade.exposure(a, 1.0),
    "+2 stops": lambda a, rng: degrade.exposure(a, 2.0),
}


def scenes(photo_dir: Path, min_face: int) -> list:
    """The reduced decodes of the photos in ``photo_dir`` with no face of ``min_face`` px or more."""
    out = []
    for p in sorted(photo_dir.iterdir()):
        if p.suffix.lower() in IMAGE_EXTENSIONS:
            photo = read_photo(p, max_side=detection.DETECT_SIDE)
            if not detection.identify(photo, min_side=min_face):
                out.append(photo)
    return out


def rates(scores: np.ndarray) -> str:
    tol = (0.5,) * 3
    axes = " ".join(f"{(scores[:, j] >= 0.5).mean():4.0%}" for j in range(3))
    return (f"{axes}  {verdict.passes(scores, tol, 'budget').mean():4.0%} "
            f"({verdict.passes(scores, tol, 'per-axis').mean():.0%})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("photo_dir", type=Path, nargs="?", default=Path("../shared/data/clean/kodak24"))
    ap.add_argument("--model", action="append", help="model name or file (repeatable); default: the default")
    ap.add_argument("--min-face", type=int, default=detection.MIN_FACE_SIDE)
    a = ap.parse_args()
    photos = scenes(a.photo_dir, a.min_face)
    for m in [get_model(n) for n in a.model or [default_model_name()]]:
        print(f"## {m.label}: {len(photos)} photos of {a.photo_dir} without a face of {a.min_face} px or more")
        print(f"  {'':10s}  {'square: ' + ' '.join(x[:5] for x in AXES) + '  pass':34s}  tiles: "
              + " ".join(x[:5] for x in AXES) + "  pass")
        for name, fn in CONDITIONS.items():
            rng = np.random.default_rng(0)
            faces = [detection.whole_image_face(dataclasses.replace(p, rgb=fn(p.rgb, rng))) for p in photos]
            square = m.score_faces([dataclasses.replace(f, tiles=None) for f in faces])
            tiles = m.score_faces(faces)
            as_array = lambda s: np.array([[x.focus, x.noise, x.lighting] for x in s])
            print(f"  {name:10s}  {rates(as_array(square)):34s}  {rates(as_array(tiles))}")


if __name__ == "__main__":
    main()
