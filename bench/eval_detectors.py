"""Recall and precision of each registered face detector on hand-boxed photos.

Runs ``clairvoyance.detection.identify`` (the pipeline's own path: reduced decode, detection, crops)
on each photo, so the numbers describe what users get. Sets, all under ``../shared/data/faces``:

- ``dlib-testing``, ``dlib-training``: dlib's hand-drawn boxes (``testing.xml``, ``training.xml``;
  PASCAL VOC photos of groups). We never train a detector, so both are test data; reported apart.
- ``face_recognition``: the photos of face_recognition's examples, boxed by hand in
  ``bench/face_recognition_boxes.json``.
- ``dlib-extra``: the unboxed photos of dlib's examples folder (a collage of 24 faces, one portrait,
  four dogs), boxed by hand in ``bench/dlib_extra_boxes.json``; ``dogs.jpg`` must give no face.

A detection matches a true face when their IoU is >= 0.3 or each box's centre lies inside the other
(dlib's boxes are tight around eyes-to-mouth while detectors' boxes include forehead and chin, so
the same face can overlap at IoU 0.3-0.5). Matching is one-to-one, best IoU first. Detections whose
centre falls in an ``ignore`` region (blurred or cut-off background faces) count neither way.

    OMP_NUM_THREADS=1 python bench/eval_detectors.py [--data ../shared/data/faces] [--no-sweep] [--no-stress]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from clairvoyance.detection import DEFAULT_DETECTOR, DETECTORS, Detector, get_detector, identify  # noqa: E402
from clairvoyance.detection.haar import HaarDetector  # noqa: E402
from clairvoyance import degrade  # noqa: E402
from clairvoyance.images import read_photo  # noqa: E402

#: Smallest IoU at which a detection counts as the same face as a true box.
IOU_MATCH = 0.3
Box = tuple[float, float, float, float]


@dataclass
class Photo:
    path: Path
    faces: list[Box]
    ignore: list[Box] = field(default_factory=list)
    name: str = ""  # as the box file names it

    def __post_init__(self) -> None:
        self.name = self.name or self.path.name


@dataclass
class Tally:
    faces: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    photos: int = 0
    seconds: float = 0.0
    fp_files: dict[str, int] = field(default_factory=dict)
    fn_files: dict[str, int] = field(default_factory=dict)

    @property
    def recall(self) -> float:
        return self.tp / self.faces if self.faces else float("nan")

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    def add(self, other: "Tally") -> None:
        for k in ("faces", "tp", "fp", "fn", "photos", "seconds"):
            setattr(self, k, getattr(self, k) + getattr(other, k))


def load_dlib_xml(path: Path) -> list[Photo]:
    root = ET.parse(path).getroot()
    out = []
    for im in root.iter("image"):
        boxes = [(float(b.get("left")), float(b.get("top")), float(b.get("width")), float(b.get("height")))
                 for b in im.iter("box") if b.get("ignore") != "1"]
        ignore = [(float(b.get("left")), float(b.get("top")), float(b.get("width")), float(b.get("height")))
                  for b in im.iter("box") if b.get("ignore") == "1"]
        out.append(Photo(path.parent / im.get("file"), boxes, ignore, im.get("file")))
    return out


def load_json(path: Path, root: Path) -> list[Photo]:
    data = json.loads(path.read_text())
    return [Photo(root / name, [tuple(b) for b in e["faces"]], [tuple(b) for b in e.get("ignore", [])], name)
            for name, e in data["photos"].items()]


def iou(a: Box, b: Box) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _centre_in(a: Box, b: Box) -> bool:
    cx, cy = a[0] + a[2] / 2, a[1] + a[3] / 2
    return b[0] <= cx <= b[0] + b[2] and b[1] <= cy <= b[1] + b[3]


def same_face(det: Box, truth: Box) -> bool:
    return iou(det, truth) >= IOU_MATCH or (_centre_in(det, truth) and _centre_in(truth, det))


def match(dets: list[Box], truth: list[Box], ignore: list[Box]) -> tuple[int, int, int]:
    """(TP, FP, FN) after one-to-one matching, best IoU first."""
    pairs = sorted(((iou(d, t), i, j) for i, d in enumerate(dets) for j, t in enumerate(truth)
                    if same_face(d, t)), reverse=True)
    used_d, used_t = set(), set()
    for _, i, j in pairs:
        if i not in used_d and j not in used_t:
            used_d.add(i)
            used_t.add(j)
    fp = sum(1 for i, d in enumerate(dets) if i not in used_d and not any(_centre_in(d, g) for g in ignore))
    return len(used_t), fp, len(truth) - len(used_t)


def evaluate(detector: Detector, photos: list[Photo], min_confidence: float | None = None) -> Tally:
    t = Tally()
    for p in photos:
        start = time.perf_counter()
        faces = identify(p.path, detector, min_confidence)
        t.seconds += time.perf_counter() - start
        tp, fp, fn = match([f.box.as_list() for f in faces], p.faces, p.ignore)
        t.faces += len(p.faces)
        t.tp, t.fp, t.fn, t.photos = t.tp + tp, t.fp + fp, t.fn + fn, t.photos + 1
        if fp:
            t.fp_files[p.name] = fp
        if fn:
            t.fn_files[p.name] = fn
    return t


def load_sets(data: Path) -> dict[str, list[Photo]]:
    return {
        "dlib-testing": load_dlib_xml(data / "dlib" / "testing.xml"),
        "dlib-training": load_dlib_xml(data / "dlib" / "training.xml"),
        "face_recognition": load_json(HERE / "face_recognition_boxes.json", data / "face_recognition"),
        "dlib-extra": load_json(HERE / "dlib_extra_boxes.json", data / "dlib"),
    }


#: The photo conditions a culling tool must still find faces in: the bad photos are the point.
STRESS = {
    "blur": lambda im: degrade.defocus_blur(im, max(im.shape[:2]) / 200),
    "noise": lambda im: degrade.sensor_noise(im, 30.0, np.random.default_rng(0)),
    "dark": lambda im: degrade.exposure(im, -3.0),
    "bright": lambda im: degrade.exposure(im, 2.0),
    "half-size": lambda im: cv2.resize(im, (im.shape[1] // 2, im.shape[0] // 2), interpolation=cv2.INTER_AREA),
}


def stressed(photos: list[Photo], how: str, folder: Path) -> list[Photo]:
    """``photos`` degraded by ``STRESS[how]`` and written as JPEG (quality 95) under ``folder``."""
    out = []
    for i, p in enumerate(photos):
        im = read_photo(p.path).rgb
        bad = STRESS[how](im)
        r = bad.shape[1] / im.shape[1]
        dst = folder / f"{how}-{i:03d}-{p.path.stem}.jpg"
        Image.fromarray(bad).save(dst, quality=95)
        out.append(Photo(dst, [tuple(v * r for v in b) for b in p.faces],
                         [tuple(v * r for v in b) for b in p.ignore], p.name))
    return out


def mosaic(photos: list[Photo], folder: Path, up: float = 2.0, size: tuple[int, int] = (4000, 3000)) -> Photo:
    """``photos`` enlarged ``up`` times and tiled row by row onto one ``size`` JPEG: a 12-megapixel group
    photo whose faces shrink to ~20 px in the 960 px detection view."""
    W, H = size
    canvas = np.full((H, W, 3), 128, np.uint8)
    faces: list[Box] = []
    x = y = row_h = 0
    for p in photos:
        im = read_photo(p.path).rgb
        im = cv2.resize(im, None, fx=up, fy=up, interpolation=cv2.INTER_CUBIC)
        h, w = im.shape[:2]
        if x + w > W:
            x, y, row_h = 0, y + row_h, 0
        if y + h > H:
            break
        canvas[y : y + h, x : x + w] = im
        faces += [(x + b[0] * up, y + b[1] * up, b[2] * up, b[3] * up) for b in p.faces]
        x, row_h = x + w, max(row_h, h)
    dst = folder / "mosaic.jpg"
    Image.fromarray(canvas).save(dst, quality=92)
    return Photo(dst, faces)


def _row(cells: list) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _pct(x: float) -> str:
    return "-" if x != x else f"{x:.3f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data" / "faces",
                    help="folder holding dlib/ and face_recognition/ (default ../shared/data/faces)")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "detectors.md")
    ap.add_argument("--no-sweep", action="store_true", help="skip the confidence / minNeighbors sweeps")
    ap.add_argument("--no-stress", action="store_true", help="skip the degraded-photo recall table")
    args = ap.parse_args(argv)
    if not (args.data / "dlib" / "testing.xml").is_file():
        print(f"no dlib/testing.xml under {args.data}; pass --data", file=sys.stderr)
        return 2
    sets = load_sets(args.data)
    lines = [
        "# Face detectors: recall and precision",
        "",
        f"`python bench/eval_detectors.py` through `clairvoyance.detection.identify` (detection on a decode of "
        f"at most 960 px, each detector at its default threshold). A detection matches a true face at IoU >= "
        f"{IOU_MATCH} or when each box's centre lies inside the other; one-to-one. ms/photo is the whole "
        "`identify` call (decode, detect, crops) on one CPU thread; compare it within one run only (the machine "
        "may be shared).",
        "",
        _row(["detector", "set", "photos", "faces", "TP", "FP", "FN", "recall", "precision", "ms/photo"]),
        _row(["---"] * 10),
    ]
    details = []
    for name in DETECTORS:
        det = get_detector(name)
        identify(sets["face_recognition"][0].path, det)  # warm up (lazy loads) outside the timing
        total = Tally()
        for set_name, photos in sets.items():
            t = evaluate(det, photos)
            total.add(t)
            lines.append(_row([name + (" (default)" if name == DEFAULT_DETECTOR else ""), set_name, t.photos,
                               t.faces, t.tp, t.fp, t.fn, _pct(t.recall), _pct(t.precision),
                               f"{1000 * t.seconds / t.photos:.0f}"]))
            if t.fp_files or t.fn_files:
                details.append(f"- {name} / {set_name}: FP {t.fp_files or '{}'}; FN {t.fn_files or '{}'}")
            print(lines[-1], file=sys.stderr)
        lines.append(_row([f"**{name}**", "**all**", total.photos, total.faces, total.tp, total.fp, total.fn,
                           f"**{_pct(total.recall)}**", f"**{_pct(total.precision)}**",
                           f"{1000 * total.seconds / total.photos:.0f}"]))
    lines += ["", "Where the misses and false detections are (file: count):", "", *details, "",
              "Looked at by eye: SCRFD's extra faces in `2008_002079.jpg` are real people in the background (the "
              "bartender, diners by the window) that dlib's annotators left unboxed; Haar's false faces are a "
              "glass of juice (`2008_002470.jpg`) and a sign on the wall (`2009_004587.jpg`); Haar misses the "
              "turned and tilted faces of `2007_007763.jpg` and the girl looking down in `obama_and_biden.jpg`."]

    if not args.no_sweep:
        everything = [p for photos in sets.values() for p in photos]
        dogs = [p for p in sets["dlib-extra"] if p.path.name == "dogs.jpg"]
        lines += ["", "## Thresholds", "",
                  "All four sets pooled; `dogs FP` is the number of faces found in `dogs.jpg` (four dogs, no people).",
                  "", _row(["detector", "setting", "faces", "TP", "FP", "FN", "recall", "precision", "dogs FP"]),
                  _row(["---"] * 9)]
        sweeps: list[tuple[str, str, Detector, float | None]] = []
        sweeps += [("haar", f"minNeighbors={k}", HaarDetector(min_neighbors=k), None) for k in (2, 3, 4, 5, 6, 8)]
        if "yunet" in DETECTORS:
            sweeps += [("yunet", f"conf={c}", get_detector("yunet"), c) for c in (0.5, 0.6, 0.7, 0.8, 0.9)]
        if "scrfd" in DETECTORS:
            sweeps += [("scrfd", f"conf={c}", get_detector("scrfd"), c) for c in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)]
        for name, setting, det, conf in sweeps:
            t, d = evaluate(det, everything, conf), evaluate(det, dogs, conf)
            default = (name == "haar" and setting == f"minNeighbors={get_detector('haar').min_neighbors}") or \
                      (conf is not None and conf == get_detector(name).default_confidence)
            lines.append(_row([name, setting + (" (default)" if default else ""), t.faces, t.tp, t.fp, t.fn,
                               _pct(t.recall), _pct(t.precision), d.fp]))
            print(lines[-1], file=sys.stderr)
    if not args.no_stress:
        everything = [p for photos in sets.values() for p in photos]
        lines += ["", "## Degraded photos", "",
                  "All four sets pooled, each photo degraded and saved as JPEG before `identify`: `blur` = defocus "
                  "disk of radius 1/200 of the long side, `noise` = sensor noise sigma 30 levels, `dark` = -3 EV, "
                  "`bright` = +2 EV (clipping), `half-size` = downscaled 2x (dlib's faces become ~18-25 px); "
                  "`12MP mosaic` = the dlib photos enlarged 2x and tiled into one 4000x3000 group photo (43 faces "
                  "of 74-106 px, ~20 px where detection looks; its cell also gives ms for the photo).", "",
                  _row(["detector", *[f"{k} recall / prec." for k in [*STRESS, "12MP mosaic"]]]),
                  _row(["---"] * (2 + len(STRESS)))]
        with tempfile.TemporaryDirectory() as tmp:
            variants = {k: stressed(everything, k, Path(tmp)) for k in STRESS}
            variants["12MP mosaic"] = [mosaic(sets["dlib-testing"] + sets["dlib-training"], Path(tmp))]
            rows = [(name, None) for name in DETECTORS]
            if not args.no_sweep:  # the thresholds next to each default, to see what they trade
                rows += [(n, c) for n, cs in (("yunet", (0.6, 0.7)), ("scrfd", (0.5, 0.7))) if n in DETECTORS
                         for c in cs]
            for name, conf in rows:
                cells = []
                for k, photos in variants.items():
                    t = evaluate(get_detector(name), photos, conf)
                    ms = f", {1000 * t.seconds / t.photos:.0f} ms" if k == "12MP mosaic" else ""
                    cells.append(f"{_pct(t.recall)} / {_pct(t.precision)} ({t.fn} FN, {t.fp} FP{ms})")
                label = f"{name} conf={conf}" if conf is not None else f"{name} (its default)"
                lines.append(_row([label, *cells]))
                print(lines[-1], file=sys.stderr)
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
