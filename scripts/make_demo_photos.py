"""Make the demo photos of ``make demo``: a dozen photos of people built from images that pip packages ship.

    python scripts/make_demo_photos.py OUT_DIR

The sources are scikit-image's ``astronaut`` (Eileen Collins) and ``camera`` (the cameraman),
matplotlib's ``grace_hopper.jpg`` and scikit-image's ``coffee`` (no person). Some photos are left
sharp and well exposed, some are degraded with ``clairvoyance.degrade`` (blur, sensor noise, under-
and over-exposure) strongly enough to fail the default tolerances, and mildly enough (or not) for the
classical corrector to bring them back; one is a truncated JPEG, and a ``notes.txt`` beside them is
skipped as a non-image file. With ``--model classical`` the run shows every status: selected,
corrected, rejected, no_face and error (``photos()`` says which photo gets which); the default
``iqa-fast`` model shows every status too, with its own calls: under the default ``budget`` verdict
it corrects the soft cameraman (version 15: focus 0.63 with noise 0.79, 1.03 of the allowance), and
rejects the over-exposed astronaut, the soft Grace Hopper and the noisy astronaut (correction not
enough: denoised, it still uses 1.08 of the allowance).
The output is the same on every run (seeded noise, fixed JPEG settings), and nothing but the
installed packages is read.
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from a checkout without installing

from clairvoyance import degrade  # noqa: E402

SEED = 2018
JPEG_QUALITY = 92


def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


def grace_hopper() -> np.ndarray:
    from matplotlib import cbook

    with cbook.get_sample_data("grace_hopper.jpg") as f:
        return np.asarray(Image.open(f).convert("RGB"))


def cameraman() -> np.ndarray:
    """Grayscale (H x W); written as a one-channel JPEG."""
    from skimage import data

    return data.camera()


def coffee() -> np.ndarray:
    from skimage import data

    return data.coffee()


def side_by_side(left: np.ndarray, right: np.ndarray, height: int = 512) -> np.ndarray:
    """Two portraits at the same height on one canvas: a group photo with two faces of different sizes."""
    import cv2

    def fit(im):
        w = round(im.shape[1] * height / im.shape[0])
        return cv2.resize(im, (w, height), interpolation=cv2.INTER_AREA if im.shape[0] > height else cv2.INTER_CUBIC)

    return np.concatenate([fit(left), fit(right)], axis=1)


def jpeg_bytes(img: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def truncated_jpeg(img: np.ndarray, keep: float = 0.4) -> bytes:
    """A JPEG cut off part-way through its image data, as an interrupted card copy leaves it."""
    data = jpeg_bytes(img)
    return data[: int(len(data) * keep)]


def noisy(img: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    """Sensor noise from its own seeded generator, so each photo is the same whatever the others."""
    return degrade.sensor_noise(img, sigma, np.random.default_rng(seed))


def photos() -> list[tuple[str, Callable[[], bytes], str]]:
    """(relative path, maker of the file's bytes, what it shows); outcomes noted are with --model classical."""
    astro, hopper = astronaut(), grace_hopper()
    return [
        ("astronaut.jpg", lambda: jpeg_bytes(astro),
         "sharp, well exposed -> selected"),
        ("grace_hopper.jpg", lambda: jpeg_bytes(hopper),
         "sharp, well exposed -> selected"),
        ("group/two_people.jpg", lambda: jpeg_bytes(side_by_side(astro, hopper)),
         "two faces, both good, in a subfolder -> selected (Final/group/)"),
        ("Grace Hopper – porträt 2.jpg", lambda: jpeg_bytes(np.ascontiguousarray(hopper[:, ::-1])),
         "mirrored; a space and unicode in the name -> selected"),
        ("astronaut_underexposed.jpg", lambda: jpeg_bytes(degrade.exposure(astro, -2.0)),
         "-2 EV -> lighting fails, exposure curve fixes it -> corrected"),
        ("astronaut_overexposed.jpg", lambda: jpeg_bytes(degrade.exposure(astro, 1.5)),
         "+1.5 EV -> lighting fails, exposure curve fixes it -> corrected"),
        ("astronaut_noisy.jpg", lambda: jpeg_bytes(noisy(astro, 28, SEED)),
         "sensor noise sigma 28 -> noise fails, non-local means fixes it -> corrected"),
        ("group/grace_hopper_soft.jpg", lambda: jpeg_bytes(degrade.gaussian_blur(hopper, 2.2)),
         "slightly soft (Gaussian blur sigma 2.2) -> focus fails, deconvolution fixes it -> corrected"),
        ("astronaut_out_of_focus.jpg", lambda: jpeg_bytes(degrade.defocus_blur(astro, 8)),
         "badly out of focus (defocus disk r 8) -> focus fails beyond repair -> rejected"),
        ("grace_hopper_very_noisy.jpg", lambda: jpeg_bytes(noisy(hopper, 40, SEED + 1)),
         "heavy sensor noise sigma 40 -> noise fails beyond repair -> rejected"),
        ("cameraman.jpg", lambda: jpeg_bytes(cameraman()),
         "one-channel (grayscale) JPEG, the face in shadow -> lighting fails, exposure curve fixes it -> corrected"),
        ("coffee.jpg", lambda: jpeg_bytes(coffee()),
         "a cup of coffee, no person -> no_face (whole image scored)"),
        ("card_copy_interrupted.jpg", lambda: truncated_jpeg(hopper),
         "truncated JPEG -> error, the run goes on"),
    ]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", type=Path)
    args = ap.parse_args(argv)
    notes = []
    for rel, make, what in photos():
        dst = args.out_dir / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(make())
        notes.append(f"{rel}: {what}")
    # a non-image file: the run skips it and lists it in the report
    (args.out_dir / "notes.txt").write_text("Demo photos made by scripts/make_demo_photos.py "
                                            "(outcomes with --model classical)\n\n" + "\n".join(notes) + "\n",
                                            encoding="utf-8")
    print(f"{len(notes)} demo photos in {args.out_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
