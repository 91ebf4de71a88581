"""Write clairvoyance/training/chart-face.png: the calibration chart's reference face.

scikit-image's astronaut (Eileen Collins, NASA, public domain), cut by the pipeline's default detector
exactly as `clairvoyance run` cuts a face (square box, 25% margin, 256x256).

    python scripts/make_chart_face.py
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image
from skimage import data

from clairvoyance.detection import identify
from clairvoyance.images import Photo

OUT = Path(__file__).resolve().parents[1] / "clairvoyance" / "training" / "chart-face.png"

if __name__ == "__main__":
    rgb = data.astronaut()
    [face] = identify(Photo(path=Path("astronaut.png"), rgb=rgb, size=(rgb.shape[1], rgb.shape[0])))
    Image.fromarray(face.crop).save(OUT, optimize=True)
    print(OUT, face.box)
