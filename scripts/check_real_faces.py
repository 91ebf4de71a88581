"""Do the quality models generalise from synthetic labels to real photos?

Scores real faces that training never saw as degraded samples:
* clean: the test-split crops of DATA_DIR, undegraded (sharp studio and press photos) -> should pass,
  in colour and converted to black and white (a style, not a defect: ``degrade.monochrome``);
* degraded: real low-quality faces (``../shared/data/faces/kair_real_faces`` TV stills and
  ``gfpgan/cropped_faces`` old photos, never used in training) -> should mostly fail;
* Kodak portraits: the faces of at least ``KODAK_MIN_SIDE`` px that the default detector finds in
  ``../shared/data/clean/kodak24`` (film-era professional photos in natural light, never used in
  training) -> should pass. Studio faces flatter a model; these test it on ordinary good light.

Pass rates are under the default verdict rule (``budget``: losses on the axes add up) and, in
brackets, under the 2018 report's ``per-axis`` rule (``clairvoyance.verdict``), at tolerance 0.5.

Usage: python scripts/check_real_faces.py DATA_DIR [SHARED_FACES_DIR] [--model NAME ...] [--each]
(``--each`` also prints every face's scores, the share of the allowance its losses use, and verdict.)
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from clairvoyance import degrade
from clairvoyance.scoring import available_models, get_model
from clairvoyance.training.dataset import Crops
from clairvoyance.types import AXES, Tolerances


#: Faces smaller than this in a Kodak photo (crowds, distant people) are not portraits.
KODAK_MIN_SIDE = 100


def _kodak_portraits(folder: Path) -> tuple[list[np.ndarray], list[int], list[str]]:
    from clairvoyance import Clairvoyance

    cv = Clairvoyance(model="classical")  # only its detector and cropping are used
    out, natives, names = [], [], []
    for p in sorted(folder.glob("*.png")):
        for i, f in enumerate(cv.identify(p)):
            if not f.whole_image and f.native_size >= KODAK_MIN_SIDE:
                out.append(f.crop)
                natives.append(f.native_size)
                names.append(f"{p.name} face {i + 1}")
    return out, natives, names


def _load_crops(folder: Path) -> tuple[list[np.ndarray], list[int], list[str]]:
    """Crops resized to 256 px, their sides in file pixels (their native size, as the pipeline sees
    it) and their file names."""
    out, natives, names = [], [], []
    for p in sorted(folder.glob("*.png")):
        a = np.asarray(Image.open(p).convert("RGB"))
        out.append(cv2.resize(a, (256, 256), interpolation=cv2.INTER_AREA))
        natives.append(min(a.shape[:2]))
        names.append(p.name)
    return out, natives, names


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("faces", type=Path, nargs="?", default=Path("../shared/data/faces"))
    ap.add_argument("--model", action="append")
    ap.add_argument("--each", action="store_true", help="print every face's scores and verdict")
    a = ap.parse_args()
    tol, per_axis = Tolerances(), Tolerances(rule="per-axis")
    test = Crops.load(a.data_dir, "test")
    test_names = [Path(r["crop"]).name for r in test.rows]
    sets = {
        "clean test-split faces (should pass)": (list(test.images), list(test.natives), test_names),
        "the same in black and white (should pass)": ([degrade.monochrome(c, degrade.LUMA) for c in test.images],
                                                      list(test.natives), test_names),
        "kair real degraded faces (should fail)": _load_crops(a.faces / "kair_real_faces"),
        "gfpgan old-photo crops (should fail)": _load_crops(a.faces / "gfpgan" / "cropped_faces"),
        "kodak portraits (should pass)": _kodak_portraits(a.faces.parent / "clean" / "kodak24"),
    }
    for name in a.model or available_models():
        m = get_model(name)
        print(f"## {m.label}")
        for set_name, (crops, natives, names) in sets.items():
            scores = m.predict(crops, natives)
            passed = [not tol.failed(s) for s in scores]
            passed_alone = [not per_axis.failed(s) for s in scores]
            mean = {ax: float(np.mean([getattr(s, ax) for s in scores])) for ax in AXES}
            print(f"  {set_name}: n={len(crops)} pass {np.mean(passed):.0%} (per-axis {np.mean(passed_alone):.0%})"
                  "  mean scores " + " ".join(f"{ax}={v:.2f}" for ax, v in mean.items()))
            for face, s, ok, ok_alone in zip(names, scores, passed, passed_alone) if a.each else ():
                print(f"    {face}: " + " ".join(f"{ax}={getattr(s, ax):.2f}" for ax in AXES)
                      + f" allowance {tol.budget_used(s):.2f}" + (" pass" if ok else " FAIL")
                      + ("" if ok == ok_alone else f" (per-axis {'pass' if ok_alone else 'FAIL'})"))


if __name__ == "__main__":
    main()
