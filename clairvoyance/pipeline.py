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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import cv2
import numpy as np

from . import detection
from .cache import RunCache, clean_partial_files
from .correction import ORDER, get_corrector, paste_back
from .detection import CROP_MARGIN, CROP_SIZE, DETECT_SIDE, SCENE_SIDE, crop_square, square_box
from .errors import ClairvoyanceError, ImageLoadError
from .images import HEIF_EXTENSIONS, IMAGE_EXTENSIONS, RAW_EXTENSIONS, UNSUPPORTED_PHOTO_EXTENSIONS, Photo, read_photo
from .publish import copy_file, encode_image, remove_output, write_bytes
from .report import report_dict, write_report
from .scoring import QualityModel, get_model
from .scoring.base import SCENE_BEST_SHARE
from .types import AXES, Box, Face, FaceResult, ImageResult, Scores, Tolerances
from .xmp import XMP_STYLES, sidecar_paths as xmp_sidecars

FINAL = "Final"
GENERATED = "generated"
CROPS = "crops"
FACES = "faces"
SCOPES = ("face", "image")
POLICIES = ("all", "largest")
#: Room around a face that its correction covers (a fraction of the face box's side on each side).
REGION_MARGIN = 0.6
#: Faces scoring below this on a failing axis are not corrected (rejected instead): blur sigma > 3 px or
#: noise sigma > 35 levels, beyond the degradations the correctors were trained on, where a generator
#: invents texture (that can even fool the quality model). An exposure curve stays reliable far
#: further, so lighting only gives up beyond about 6 stops.
MIN_CORRECTABLE = {"focus": 0.05, "noise": 0.05, "lighting": 0.01}
#: Crops scored per model call.
BATCH = 32


@dataclass
class RunResult:
    """What ``Clairvoyance.run`` returns: per-photo results, skipped files and where the report is."""

    images: list[ImageResult]
    skipped: list[str] = field(default_factory=list)
    output_dir: Path | None = None
    report: dict = field(default_factory=dict)
    #: Outputs of earlier runs removed because a photo's verdict changed (relative to output_dir).
    pruned: list[str] = field(default_factory=list)

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
            if n.startswith(".") or (d == root and n in ("report.json", "report.csv", "report.html")):
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
    """The reason for a verdict in words: ``noise 0.31 < 0.50 on face 2`` for an axis below its
    tolerance; ``focus 0.62 + noise 0.64 use 1.48 of the allowance on face 1`` for a face whose
    losses add up to too much under the ``budget`` rule (the axes that count, then the sum)."""
    parts = []
    for i in judged:
        f = faces[i]
        where = "on the whole image" if f.whole_image else f"on face {i + 1}"
        below = [a for a in f.failed if getattr(f.scores, a) < getattr(tol, a)]
        parts += [f"{a} {getattr(f.scores, a):.2f} < {getattr(tol, a):.2f} {where}" for a in below]
        if len(below) < len(f.failed):  # failed on the sum, not (only) on one axis
            counted = [a for a in AXES if getattr(tol, a) > 0 and getattr(f.scores, a) < 0.995]
            parts.append(f"{' + '.join(f'{a} {getattr(f.scores, a):.2f}' for a in counted)} use "
                         f"{tol.budget_used(f.scores):.2f} of the allowance {where}")
    return "; ".join(parts)


class Clairvoyance:
    """Identify, classify and correct the people in a folder of photos.

    ``tolerances`` (focus, noise, lighting): the edge of acceptable on each axis; higher tolerances
    select fewer photos. Under the default ``budget`` rule a face passes while its losses on the three
    axes, each as a share of its tolerance's allowance, add up to at most 1; under ``per-axis`` when
    every score is >= its tolerance (``Tolerances.rule``, ``clairvoyance.verdict``). ``policy`` says
    which faces of a group photo must pass: ``all`` (strict, the default) or ``largest`` (the main
    subject only).
    """

    def __init__(self, model: str | QualityModel | None = None,
                 tolerances: Tolerances | Sequence[float] = (0.5, 0.5, 0.5),
                 input_dir: str | os.PathLike | None = None, output_dir: str | os.PathLike | None = None,
                 detector: str = detection.DEFAULT_DETECTOR, policy: str = "all", workers: int = 1,
                 corrector: str | None = None, correct: bool = True, scope: str = "face", keep_crops: bool = False, dry_run: bool = False,
                 cache: bool = True, xmp: str | None = None, html: bool = True,
                 min_face: int = detection.MIN_FACE_SIDE):
        self.model = model if isinstance(model, QualityModel) else get_model(model)
        self.tolerances = Tolerances.coerce(tolerances)
        self.input_dir = Path(input_dir) if input_dir is not None else None
        self.output_dir = Path(output_dir) if output_dir is not None else self.input_dir
        self.detector = detection.get_detector(detector)
        self.detector_name = detector
        self.min_face = max(0, int(min_face))
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
        # the photographer's workflow (issue 6): run cache, XMP sidecars ("adobe" | "darktable"), report.html
        self.use_cache = cache
        if xmp is not None and xmp not in XMP_STYLES:
            raise ValueError(f"xmp must be one of {XMP_STYLES}, got {xmp!r}")
        self.xmp_style = xmp
        self.html = html
        # outputs pick a free name then write it: one photo at a time, so parallel workers never collide
        self._write_lock = threading.Lock()
        # per photo (each runs in one thread): how to record an output it writes as Clairvoyance's
        self._local = threading.local()
        self._pruned: list[str] = []
        self._originals: set[Path] = set()

    # --- the stages, usable one by one ---------------------------------------------------------
    def identify(self, image: str | os.PathLike | Photo) -> list[Face]:
        """Faces in ``image`` (path or Photo), largest first: boxes in original pixels + 256x256 crops;
        faces whose crop is under ``min_face`` original pixels a side are too small to judge and left out."""
        return detection.identify(image if isinstance(image, Photo) else Path(image), self.detector,
                                  min_side=self.min_face)

    def classify(self, faces: Sequence[Face]) -> list[Scores]:
        """Scores in [0, 1] per axis for each face (batched through the model); a whole image from its
        best areas (``QualityModel.score_faces``)."""
        return self.model.score_faces(faces, BATCH)

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
            if not s.lower().endswith(".xmp (not an image file)"):  # sidecars are expected beside photos
                log(f"skipped: {s}")
        sidecars = xmp_sidecars(files, self.xmp_style, log) if self.xmp_style else {}
        if not self.dry_run:
            self._clean_partial(out_dir, sidecars)
        self._pruned, self._originals = [], {p.resolve() for p in files}
        cache = RunCache(out_dir, read_only=self.dry_run, log=log) if self.use_cache else None
        try:
            done = self._in_order(lambda p: self._job(p, out_dir, log, cache, sidecars.get(p)), files)
            if progress is not None:
                done = progress(done, total=len(files))
            results = list(done)
        finally:
            if cache is not None:
                cache.close()
        pruned = sorted(self._pruned)
        report = report_dict(results, self.tolerances, self.model.label, self.detector_name, self.policy, skipped,
                             pruned, self.min_face)
        if not self.dry_run:
            write_report(out_dir, report, results)
            if self.html:
                from .html_report import write_html_report

                write_html_report(out_dir, self.input_dir, report, results, self.workers)
        return RunResult(images=results, skipped=skipped, output_dir=out_dir, report=report, pruned=pruned)

    # --- resumable runs and sidecars (issue 6) ---------------------------------------------------
    @property
    def score_key(self) -> str:
        """Everything that changes a photo's faces or scores: model, detector, smallest face, crop geometry."""
        return (f"{self.model.label}|{self.detector_name}|min face {self.min_face}|crop {CROP_SIZE}+{CROP_MARGIN}"
                f"|detect {DETECT_SIDE}|scene {SCENE_SIDE} best {SCENE_BEST_SHARE}")

    @property
    def decide_key(self) -> str:
        """Everything that changes a verdict or its outputs, given the scores."""
        t = self.tolerances
        return (f"{self.score_key}|tol {t.focus} {t.noise} {t.lighting} {t.rule}|{self.policy}"
                f"|correct {self.correct_failures}|{self.scope}|{self.corrector.label}|crops {self.keep_crops}")

    def _job(self, path: Path, out_dir: Path, log, cache: RunCache | None, sidecar: Path | None) -> ImageResult:
        """One photo, end to end: its result (from the cache where it can be; the outputs an earlier
        verdict made that this one does not are removed), then its XMP sidecar."""
        self._local.record = None  # set once the photo's content hash is known
        result = self._cached_process(path, out_dir, log, cache)
        if sidecar is not None and result.status != "error":
            from .xmp import write_sidecar

            judged = decide(result.faces, self.policy)
            try:
                write_sidecar(sidecar, result, judged, self.tolerances, self.model.label, dry_run=self.dry_run, log=log,
                              style=self.xmp_style)
            except (ClairvoyanceError, OSError) as e:  # a sidecar we cannot write is reported; the verdict stands
                log(f"warning: {result.file}: XMP sidecar not written: {e}")
        return result

    def _cached_process(self, path: Path, out_dir: Path, log, cache: RunCache | None) -> ImageResult:
        if cache is None:
            return self._process(path, self._load(path), out_dir, log)
        rel = path.relative_to(self.input_dir.resolve()).as_posix()
        try:
            digest = cache.digest(path)
        except OSError:  # unreadable: the normal path reports why
            return self._process(path, self._load(path), out_dir, log)
        self._local.record = lambda p: cache.record_write(p.relative_to(out_dir).as_posix(), rel, digest)
        result = cache.result(rel, digest, self.decide_key)
        if result is None:
            stored = None if self.keep_crops else cache.faces(digest, self.score_key)
            if stored is not None:  # scored before: decide again without running a model
                faces = [FaceResult(box, s, tuple(self.tolerances.failed(s)), whole) for box, s, whole in stored]
                result = self._decide(path, rel, faces, out_dir, log)
            else:
                result = self._process(path, self._load(path), out_dir, log)
                if result.faces:
                    cache.put_faces(digest, self.score_key, result.faces)
            if not self.dry_run:
                cache.put_result(digest, self.decide_key, result)
        if result.status != "error":  # an error decides nothing: earlier outputs stay
            self._prune(result, digest, out_dir, log, cache)
        return result

    def _note_write(self, path: Path) -> None:
        """An output was just written for the photo this thread works on: the cache records it as ours."""
        record = getattr(self._local, "record", None)
        if record is not None:
            record(path)

    def _prune(self, result: ImageResult, digest: str, out_dir: Path, log, cache: RunCache) -> None:
        """Claim the outputs ``result`` reuses, and delete those an earlier run wrote for the same photo
        with the same content that its verdict no longer makes (selected then corrected: its copy in
        Final/; corrected then selected: its corrected file and face crops). Only recorded files go, only
        while they are exactly as written, inside Final/, and never an original; a file another photo's
        result also uses stays, and so do outputs of an earlier content of the photo (the photographer
        replaced it: the old copy may be the only one left)."""
        cache.claim_outputs(result.file, digest, result.outputs)
        final = out_dir / FINAL
        for rel, size, mtime_ns, shared in cache.stale_outputs(result.file, digest, result.outputs):
            p = out_dir / rel
            if self.dry_run:
                if not shared and p.is_file():
                    log(f"prune: {rel} would be removed ({result.file} is now {result.status})")
                    with self._write_lock:
                        self._pruned.append(rel)
                continue
            with self._write_lock:
                cache.forget_output(rel, result.file)
                if shared or p.resolve() in self._originals:
                    continue
                if remove_output(p, size, mtime_ns, final):
                    self._pruned.append(rel)
                    log(f"prune: removed {rel} ({result.file} is now {result.status})")
                elif p.exists():
                    log(f"prune: kept {rel}: changed since Clairvoyance wrote it")

    def _clean_partial(self, out_dir: Path, sidecars: dict[Path, Path]) -> None:
        """Temporary files a killed run left behind: in our output folders, and beside the sidecars."""
        for d in (out_dir / FINAL, out_dir / CROPS):
            clean_partial_files(d)
        clean_partial_files(out_dir, recursive=False)
        for d in {s.parent for s in sidecars.values()}:
            clean_partial_files(d, recursive=False, only_suffix=".xmp")

    def _load(self, p: Path) -> tuple[Photo, list[Face]] | ImageLoadError:
        """The reduced decode of ``p`` and its faces (or the whole image), or why it cannot be read."""
        try:
            photo = read_photo(p, max_side=DETECT_SIDE)
            return photo, detection.subjects(photo, self.detector, self.min_face)
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
        return self._decide(path, rel, results, out_dir, log, photo, faces)

    def _decide(self, path: Path, rel: str, results: list[FaceResult], out_dir: Path, log,
                photo: Photo | None = None, faces: list[Face] | None = None) -> ImageResult:
        """The verdict on scored faces, and its outputs. ``photo`` and ``faces`` (the decode and crops the
        scores came from) are None when the scores come from the cache; a correction then decodes again."""
        judged = decide(results, self.policy)
        failing = [i for i in judged if results[i].failed]
        final_rel = Path(FINAL) / rel
        if results[0].whole_image and failing:
            return ImageResult(rel, "no_face", tuple(results), (), None,
                               "no face found; whole image as subject: " + explain(results, judged, self.tolerances))
        if not failing:
            status, reason = (("no_face", "no face found; whole image passes") if results[0].whole_image
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
        hopeless = [f"{a} {getattr(results[i].scores, a):.2f} on face {i + 1}"
                    for i in failing for a in results[i].failed if getattr(results[i].scores, a) < MIN_CORRECTABLE[a]]
        if hopeless:  # beyond what the correctors were made for: a "fix" would only invent detail
            return ImageResult(rel, "rejected", tuple(results), (), None,
                               f"{why}; too degraded to correct ({', '.join(hopeless)})")
        try:
            return self._correct_photo(path, rel, photo, faces, results, failing, out_dir, why)
        except (ClairvoyanceError, OSError, ValueError, MemoryError) as e:
            log(f"error: {rel}: correction failed: {e}")
            return ImageResult(rel, "error", tuple(results), (), f"correction failed: {e}", why)

    def _copy(self, src: Path, out_dir: Path, rel: Path) -> tuple[str, ...]:
        if not self.dry_run:
            with self._write_lock:
                dst = copy_file(src, out_dir / rel, on_write=self._note_write)
            rel = dst.relative_to(out_dir)
        return (Path(rel).as_posix(),)

    def _correct_photo(self, path, rel, photo, faces, results, failing, out_dir, why) -> ImageResult:
        full = full_decode(path, photo)
        if faces is None:
            faces = _faces_at(full, results)
        axes_per_face = [list(results[i].failed) if i in failing else [] for i in range(len(faces))]
        fixed, new_crops, new_scores, axes_per_face = self.correct_and_rejudge(full.rgb, faces, axes_per_face)
        still = [i for i in failing if self.tolerances.failed(new_scores[i])]
        axes = sorted({a for i in failing for a in axes_per_face[i]}, key=AXES.index)
        before_after = ", ".join(
            f"{a} {getattr(results[i].scores, a):.2f}->{getattr(new_scores[i], a):.2f} on face {i + 1}"
            for i in failing for a in axes_per_face[i])
        if still:  # say what still fails afterwards: under the budget rule it can be another axis's loss
            after = [FaceResult(f.box, s, tuple(self.tolerances.failed(s))) for f, s in zip(faces, new_scores)]
            return ImageResult(rel, "rejected", tuple(results), (), None,
                               f"{why}; correction not enough ({before_after}); after it: "
                               f"{explain(after, still, self.tolerances)}")
        stem = Path(rel)
        name = f"{stem.stem}_corrected-{'-'.join(axes)}{_output_suffix(stem.suffix)}"
        gen_rel = Path(FINAL) / GENERATED / stem.parent / name
        outs: tuple[str, ...] = (gen_rel.as_posix(),)
        if not self.dry_run:
            data = encode_corrected(full, fixed, gen_rel.suffix)
            with self._write_lock:
                dst = write_bytes(data, out_dir / gen_rel, on_write=self._note_write)
                outs = (dst.relative_to(out_dir).as_posix(),)
                for i in failing:  # before/after face crops, to judge the correction by eye
                    for tag, crop in (("before", faces[i].crop), ("after", new_crops[i])):
                        p = out_dir / FINAL / GENERATED / FACES / stem.parent / f"{stem.stem}_face{i + 1}_{tag}.png"
                        outs += (write_bytes(encode_image(crop, ".png"), p, on_write=self._note_write)
                                 .relative_to(out_dir).as_posix(),)
        return ImageResult(rel, "corrected", tuple(results), outs, None, f"{why}; corrected ({before_after})")

    def correct_and_rejudge(self, image: np.ndarray, faces: Sequence[Face], failed: Sequence[Sequence[str]],
                            second_round: bool = True):
        """Correct each face on its ``failed`` axes (``--scope``), re-crop and re-score the faces where
        they were; then, with ``second_round``, correct once more the axes of a corrected face that
        now fail and were not corrected (brightening a dark face raises its noise, which under the
        budget rule can keep it failing). Returns the photo, the new crops, the new scores and the
        axes corrected per face."""
        fix = self.correct_image if self.scope == "image" else self.correct
        fixed, crops, scores = self._rejudged(fix(image, faces, failed), faces)
        more = [[a for a in self.tolerances.failed(s) if a not in axes] if axes else []
                for s, axes in zip(scores, failed)]
        if not (second_round and any(more)):
            return fixed, crops, scores, [list(a) for a in failed]
        fixed, crops, scores = self._rejudged(fix(fixed, faces, more), faces)
        return fixed, crops, scores, [sorted({*a, *m}, key=AXES.index) for a, m in zip(failed, more)]

    def _rejudged(self, fixed: np.ndarray, faces: Sequence[Face]) -> tuple[np.ndarray, list[np.ndarray], list[Scores]]:
        """The corrected image's faces cut again at their boxes (a whole image: its areas) and scored."""
        H, W = fixed.shape[:2]
        again = [detection.whole_image_face(Photo(Path(), fixed, (W, H))) if f.whole_image
                 else replace(f, crop=crop_square(fixed, square_box(f.box, W, H))) for f in faces]
        return fixed, [f.crop for f in again], self.model.score_faces(again, BATCH)

    def _save_crops(self, rel: str, faces: Sequence[Face], out_dir: Path) -> None:
        for i, f in enumerate(faces, 1):
            dst = out_dir / CROPS / Path(rel).parent / f"{Path(rel).stem}_face{i}.png"
            data = encode_image(f.crop, ".png")
            with self._write_lock:
                write_bytes(data, dst)


def _output_suffix(suffix: str) -> str:
    """The format of a corrected photo: the original's where we can write it; a RAW becomes a TIFF
    (lossless, with EXIF and colour profile), HEIC stays HEIC, anything else PNG."""
    s = suffix.lower()
    if s in (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp"):
        return s
    if s in RAW_EXTENSIONS:
        return ".tif"
    if s in HEIF_EXTENSIONS:
        return ".heic"
    return ".png"


def full_decode(path: Path, photo: Photo | None = None) -> Photo:
    """The decode a correction starts from: ``photo`` when it already is the full one, else a new one. A
    RAW file is corrected from its full demosaic, never from the preview it was scored on, and its 16-bit
    demosaic is kept for the output (``encode_corrected``)."""
    raw = path.suffix.lower() in RAW_EXTENSIONS
    if photo is not None and photo.scale == 1.0 and not photo.preview and (photo.rgb16 is not None or not raw):
        return photo
    return read_photo(path, keep_16bit=raw)


def encode_corrected(full: Photo, fixed: np.ndarray, suffix: str) -> bytes:
    """The file of a corrected photo: ``fixed``, the 8-bit correction of ``full`` (from ``full_decode``),
    in the format ``suffix`` names, with the original's EXIF and colour profile; on a RAW's 16-bit
    demosaic as a residual (``on_16bit``), which only a TIFF holds."""
    pixels = fixed if full.rgb16 is None else on_16bit(full.rgb16, full.rgb, fixed)
    return encode_image(pixels, suffix, full.exif, full.icc)


def on_16bit(orig16: np.ndarray, orig8: np.ndarray, fixed8: np.ndarray, rows: int = 256) -> np.ndarray:
    """A correction made on 8 bits, applied to the 16-bit pixels it was made from as a residual:
    ``orig16 + (fixed8 - orig8) * 257``, clipped. Where the correction changed nothing the result is
    ``orig16`` exactly, so untouched areas keep every bit of the RAW. Works ``rows`` rows at a time
    (a 24-megapixel photo needs no 32-bit copy of itself)."""
    out = np.empty_like(orig16)
    for y in range(0, orig16.shape[0], rows):
        band = slice(y, y + rows)
        delta = fixed8[band].astype(np.int32) - orig8[band]
        out[band] = np.clip(orig16[band] + delta * 257, 0, 65535)
    return out


def _faces_at(full: Photo, results: Sequence[FaceResult]) -> list[Face]:
    """Faces cut again from a full-resolution decode at their known boxes (cached scores carry no crops)."""
    W, H = full.size
    out = []
    for r in results:
        sq = square_box(r.box, W, H, margin=0.0 if r.whole_image else CROP_MARGIN)
        out.append(Face(box=r.box, crop=crop_square(full.rgb, sq), whole_image=r.whole_image, native_size=sq.w))
    return out
