"""The one-click job: scan a folder, identify faces, classify them, decide, publish, correct, report.

Figure 2 of the 2018 report: photos that pass go to ``Final/`` untouched; photos that fail are
corrected into ``Final/generated/``; every decision is written to ``report.json`` with its reason.
"""
from __future__ import annotations

import os
import sys
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import cv2
import numpy as np

from . import detection
from .correction import ORDER, get_corrector, paste_back
from .detection import DETECT_SIDE, crop_square, square_box
from .errors import ClairvoyanceError, ImageLoadError
from .images import IMAGE_EXTENSIONS, UNSUPPORTED_PHOTO_EXTENSIONS, Photo, read_photo
from .publish import copy_file, encode_image, write_bytes
from .report import report_dict, write_report
from .scoring import QualityModel, get_model
from .types import AXES, Box, Face, FaceResult, ImageResult, Scores, Tolerances

FINAL = "Final"
GENERATED = "generated"
CROPS = "crops"
FACES = "faces"
SCOPES = ("face", "image")
POLICIES = ("all", "largest")
#: Room around a face that its correction covers (a fraction of the face box's side on each side).
REGION_MARGIN = 0.6
#: Crops scored per model call.
BATCH = 32


@dataclass
class RunResult:
    """What ``Clairvoyance.run`` returns: per-photo results, skipped files and where the report is."""

    images: list[ImageResult]
    skipped: list[str] = field(default_factory=list)
    output_dir: Path | None = None
    report: dict = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.images)

    @property
    def ok(self) -> bool:
        return not any(r.status == "error" for r in self.images)


def scan(input_dir: Path, exclude: Sequence[Path] = ()) -> tuple[list[Path], list[str]]:
    """Photos under ``input_dir`` (sorted), and the relative paths of other files that were skipped.

    Never descends into a ``Final`` folder or ``exclude``; symlinks that resolve outside the input tree
    are skipped.
    """
    root = input_dir.resolve()
    excl = {p.resolve() for p in exclude}
    photos, skipped = [], []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        d = Path(dirpath)
        dirnames[:] = sorted(n for n in dirnames if n != FINAL and not n.startswith(".")
                             and (d / n).resolve() not in excl and _inside(d / n, root))
        for n in sorted(filenames):
            p = d / n
            if n.startswith(".") or (d == root and n in ("report.json", "report.csv")):
                continue
            rel = p.relative_to(root).as_posix()
            if not _inside(p, root):
                skipped.append(f"{rel} (symlink outside the input folder)")
            elif p.suffix.lower() in IMAGE_EXTENSIONS | UNSUPPORTED_PHOTO_EXTENSIONS:
                photos.append(p)
            else:
                skipped.append(f"{rel} (not an image file)")
    return photos, skipped


def _inside(p: Path, root: Path) -> bool:
    try:
        p.resolve().relative_to(root)
        return True
    except (ValueError, OSError):
        return False


def decide(faces: Sequence[FaceResult], policy: str) -> list[int]:
    """Indices of the faces that decide the photo: all of them, or only the largest."""
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
    if not faces:
        return []
    return list(range(len(faces))) if policy == "all" else [max(range(len(faces)), key=lambda i: faces[i].box.area)]


def explain(faces: Sequence[FaceResult], judged: Sequence[int], tol: Tolerances) -> str:
    """The reason for a verdict in words, e.g. ``noise 0.31 < 0.50 on face 2``."""
    parts = [f"{a} {getattr(faces[i].scores, a):.2f} < {getattr(tol, a):.2f} on face {i + 1}"
             for i in judged for a in faces[i].failed]
    return "; ".join(parts)


class Clairvoyance:
    """Identify, classify and correct the people in a folder of photos.

    ``tolerances`` (focus, noise, lighting): a face passes an axis when its score is >= the tolerance;
    higher tolerances select fewer photos. ``policy`` says which faces of a group photo must pass:
    ``all`` (strict, the default) or ``largest`` (the main subject only).
    """

    def __init__(self, model: str | QualityModel | None = None,
                 tolerances: Tolerances | Sequence[float] = (0.5, 0.5, 0.5),
                 input_dir: str | os.PathLike | None = None, output_dir: str | os.PathLike | None = None,
                 detector: str = detection.DEFAULT_DETECTOR, policy: str = "all", workers: int = 1,
                 corrector: str | None = None, correct: bool = True, scope: str = "face", keep_crops: bool = False, dry_run: bool = False):
        self.model = model if isinstance(model, QualityModel) else get_model(model)
        self.tolerances = Tolerances.coerce(tolerances)
        self.input_dir = Path(input_dir) if input_dir is not None else None
        self.output_dir = Path(output_dir) if output_dir is not None else self.input_dir
        self.detector = detection.get_detector(detector)
        self.detector_name = detector
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
        self.policy = policy
        self.workers = max(1, int(workers))
        # the classical quality model goes with the classical correctors (the baseline end to end)
        self.corrector = get_corrector(corrector or ("classical" if self.model.name == "classical" else None))
        self.correct_failures = correct
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
        self.scope = scope
        self.keep_crops = keep_crops
        self.dry_run = dry_run
        # outputs pick a free name then write it: one photo at a time, so parallel workers never collide
        self._write_lock = threading.Lock()

    # --- the stages, usable one by one ---------------------------------------------------------
    def identify(self, image: str | os.PathLike | Photo) -> list[Face]:
        """Faces in ``image`` (path or Photo), largest first: boxes in original pixels + 256x256 crops."""
        return detection.identify(image if isinstance(image, Photo) else Path(image), self.detector)

    def classify(self, faces: Sequence[Face]) -> list[Scores]:
        """Scores in [0, 1] per axis for each face (batched through the model)."""
        out: list[Scores] = []
        for i in range(0, len(faces), BATCH):
            chunk = faces[i : i + BATCH]
            out += self.model.predict([f.crop for f in chunk], [f.native_size for f in chunk])
        return out

    def correct(self, image: np.ndarray, faces: Sequence[Face], failed: Sequence[Sequence[str]]) -> np.ndarray:
        """``image`` with each face corrected on its failed axes (in ORDER) and pasted back seamlessly.

        Lighting is corrected on the whole photo (exposure is global). Noise and focus are corrected
        on a region around each face at the scale of the 256 px face crop (the scale the models
        were trained and judged at); the correction (corrected minus input) is scaled back up and
        added to the full-resolution region, which is feathered into the photo.
        """
        out = image
        lit = [f for f, fl in zip(faces, failed) if "lighting" in fl]
        if lit:
            H, W = out.shape[:2]
            out = self.corrector.correct_lighting(out, crop_square(out, square_box(lit[0].box, W, H)))
        H, W = out.shape[:2]
        for face, axes in zip(faces, failed):
            local = [a for a in ORDER if a in axes and a != "lighting"]
            if local:
                out = self._correct_region(out, face.box, local)
        return out

    def correct_image(self, image: np.ndarray, faces: Sequence[Face], failed: Sequence[Sequence[str]]) -> np.ndarray:
        """``--scope image``: correct the whole photo at full resolution on every failing axis
        (learned generators run in overlapping tiles), not only the faces."""
        axes = [a for a in ORDER if any(a in f for f in failed)]
        out = image
        H, W = image.shape[:2]
        if "lighting" in axes:
            lit = next(f for f, fl in zip(faces, failed) if "lighting" in fl)
            out = self.corrector.correct_lighting(out, crop_square(out, square_box(lit.box, W, H)))
        local = [a for a in axes if a != "lighting"]
        if local:
            first = next(f for f, fl in zip(faces, failed) if fl)
            sq = square_box(first.box, W, H)
            out = self.corrector.correct(out, local, crop_square(out, sq), scale=sq.w / detection.CROP_SIZE)
        return out

    def _correct_region(self, image: np.ndarray, box: Box, axes: list[str]) -> np.ndarray:
        H, W = image.shape[:2]
        crop_sq = square_box(box, W, H)
        region = square_box(box, W, H, margin=REGION_MARGIN)
        work = int(round(detection.CROP_SIZE * region.w / max(crop_sq.w, 1) / 4)) * 4
        patch = image[region.y : region.y + region.h, region.x : region.x + region.w]
        small = cv2.resize(patch, (work, work), interpolation=cv2.INTER_AREA if region.w > work else cv2.INTER_CUBIC)
        c0 = (work - detection.CROP_SIZE) // 2
        ref = small[c0 : c0 + detection.CROP_SIZE, c0 : c0 + detection.CROP_SIZE]
        fixed = self.corrector.correct(small, axes, ref)
        delta = fixed.astype(np.float32) - small.astype(np.float32)
        delta = cv2.resize(delta, (region.w, region.h), interpolation=cv2.INTER_CUBIC)
        patched = np.clip(patch.astype(np.float32) + delta + 0.5, 0, 255).astype(np.uint8)
        return paste_back(image, patched, region)

    # --- the one-click job ---------------------------------------------------------------------
    def run(self, progress: Callable[[Iterable], Iterable] | None = None, log=None) -> RunResult:
        """Process every photo under ``input_dir``; returns per-photo results and writes the report."""
        if self.input_dir is None:
            raise ClairvoyanceError("no input_dir given")
        if not self.input_dir.is_dir():
            raise ClairvoyanceError(f"input folder not found: {self.input_dir}")
        log = log or (lambda msg: print(msg, file=sys.stderr))
        out_dir = self.output_dir or self.input_dir
        files, skipped = scan(self.input_dir, exclude=[out_dir / FINAL, out_dir / CROPS] + ([out_dir] if out_dir != self.input_dir else []))
        for s in skipped:
            log(f"skipped: {s}")
        done = self._in_order(lambda p: self._process(p, self._load(p), out_dir, log), files)
        if progress is not None:
            done = progress(done, total=len(files))
        results = list(done)
        report = report_dict(results, self.tolerances, self.model.label, self.detector_name, self.policy, skipped)
        if not self.dry_run:
            write_report(out_dir, report, results)
        return RunResult(images=results, skipped=skipped, output_dir=out_dir, report=report)

    def _load(self, p: Path) -> tuple[Photo, list[Face]] | ImageLoadError:
        """The reduced decode of ``p`` and its faces (or the whole image), or why it cannot be read."""
        try:
            photo = read_photo(p, max_side=DETECT_SIDE)
            faces = self.identify(photo)
            return photo, faces or [detection.whole_image_face(photo)]
        except ImageLoadError as e:
            return e
        except (OSError, ValueError, MemoryError) as e:  # an unforeseen decoder failure is still one photo's
            return ImageLoadError(f"{type(e).__name__}: {e}")

    def _in_order(self, job: Callable[[Path], ImageResult], files: list[Path]) -> Iterator[ImageResult]:
        """``job`` over ``files``, results in order. With several workers whole photos (decode, detect,
        score, correct) run in parallel, at most two per worker in flight so memory stays bounded."""
        if self.workers == 1:
            yield from map(job, files)
            return
        with ThreadPoolExecutor(self.workers) as ex:
            window: deque[Future[ImageResult]] = deque()
            for p in files:
                window.append(ex.submit(job, p))
                if len(window) >= 2 * self.workers:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()

    def _process(self, path: Path, loaded: tuple[Photo, list[Face]] | ImageLoadError, out_dir: Path,
                 log) -> ImageResult:
        rel = path.relative_to(self.input_dir.resolve()).as_posix()
        if isinstance(loaded, Exception):
            log(f"error: {rel}: {loaded}")
            return ImageResult(file=rel, status="error", error=str(loaded), reason=str(loaded))
        photo, faces = loaded
        scores = self.classify(faces)
        results = [FaceResult(f.box, s, tuple(self.tolerances.failed(s)), f.whole_image) for f, s in zip(faces, scores)]
        if self.keep_crops and not self.dry_run:
            self._save_crops(rel, faces, out_dir)
        judged = decide(results, self.policy)
        failing = [i for i in judged if results[i].failed]
        final_rel = Path(FINAL) / rel
        if faces[0].whole_image and failing:
            return ImageResult(rel, "no_face", tuple(results), (), None,
                               "no face found; whole image as subject: " + explain(results, judged, self.tolerances))
        if not failing:
            status, reason = (("no_face", "no face found; whole image passes") if faces[0].whole_image
                              else ("selected", "every judged face passes"))
            try:
                outs = self._copy(path, out_dir, final_rel)
            except OSError as e:  # an unwritable output is this photo's error; the run goes on
                log(f"error: {rel}: cannot write {final_rel.as_posix()}: {e}")
                return ImageResult(rel, "error", tuple(results), (), f"cannot write output: {e}", reason)
            return ImageResult(rel, status, tuple(results), outs, None, reason)
        why = explain(results, judged, self.tolerances)
        if not self.correct_failures:
            return ImageResult(rel, "rejected", tuple(results), (), None, why)
        try:
            return self._correct_photo(path, rel, photo, faces, results, failing, out_dir, why)
        except (ClairvoyanceError, OSError, ValueError, MemoryError) as e:
            log(f"error: {rel}: correction failed: {e}")
            return ImageResult(rel, "error", tuple(results), (), f"correction failed: {e}", why)

    def _copy(self, src: Path, out_dir: Path, rel: Path) -> tuple[str, ...]:
        if not self.dry_run:
            with self._write_lock:
                dst = copy_file(src, out_dir / rel)
            rel = dst.relative_to(out_dir)
        return (Path(rel).as_posix(),)

    def _correct_photo(self, path, rel, photo, faces, results, failing, out_dir, why) -> ImageResult:
        full = photo if photo.scale == 1.0 else read_photo(path)
        axes_per_face = [list(results[i].failed) if i in failing else [] for i in range(len(faces))]
        if self.scope == "image":
            fixed = self.correct_image(full.rgb, faces, axes_per_face)
        else:
            fixed = self.correct(full.rgb, faces, axes_per_face)
        # re-judge the corrected faces where they were
        H, W = fixed.shape[:2]
        new_crops = [crop_square(fixed, square_box(f.box, W, H)) for f in faces]
        new_scores = self.model.predict(new_crops, [f.native_size for f in faces])
        still = [i for i in failing if self.tolerances.failed(new_scores[i])]
        axes = sorted({a for i in failing for a in results[i].failed}, key=AXES.index)
        before_after = ", ".join(
            f"{a} {getattr(results[i].scores, a):.2f}->{getattr(new_scores[i], a):.2f} on face {i + 1}"
            for i in failing for a in results[i].failed)
        if still:
            return ImageResult(rel, "rejected", tuple(results), (), None,
                               f"{why}; correction not enough ({before_after})")
        stem = Path(rel)
        name = f"{stem.stem}_corrected-{'-'.join(axes)}{stem.suffix.lower() if stem.suffix.lower() in ('.jpg', '.jpeg', '.png', '.tif', '.tiff', '.webp') else '.png'}"
        gen_rel = Path(FINAL) / GENERATED / stem.parent / name
        outs: tuple[str, ...] = (gen_rel.as_posix(),)
        if not self.dry_run:
            data = encode_image(fixed, gen_rel.suffix, full.exif)
            with self._write_lock:
                dst = write_bytes(data, out_dir / gen_rel)
                outs = (dst.relative_to(out_dir).as_posix(),)
                for i in failing:  # before/after face crops, to judge the correction by eye
                    for tag, crop in (("before", faces[i].crop), ("after", new_crops[i])):
                        p = out_dir / FINAL / GENERATED / FACES / stem.parent / f"{stem.stem}_face{i + 1}_{tag}.png"
                        outs += (write_bytes(encode_image(crop, ".png"), p).relative_to(out_dir).as_posix(),)
        return ImageResult(rel, "corrected", tuple(results), outs, None, f"{why}; corrected ({before_after})")

    def _save_crops(self, rel: str, faces: Sequence[Face], out_dir: Path) -> None:
        for i, f in enumerate(faces, 1):
            dst = out_dir / CROPS / Path(rel).parent / f"{Path(rel).stem}_face{i}.png"
            data = encode_image(f.crop, ".png")
            with self._write_lock:
                write_bytes(data, dst)
