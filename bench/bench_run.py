"""Photos per second: decoding alone versus the whole ``clairvoyance run``, on 12-megapixel JPEGs.

Makes N synthetic 4000x3000 JPEGs (quality 92) in a temporary folder: a large portrait pasted from a
package image (scikit-image's astronaut, matplotlib's grace_hopper.jpg) on a textured background, on
every other photo a second, small face (cropped from the full-resolution decode), and every other
photo degraded (blur, noise or under-exposure) so that the run both selects and corrects. Then times

  (a) decode only: a full Pillow decode of each file to RGB, as any viewer would;
  (b) the run through the Python API ``Clairvoyance(...).run()`` with ``--model classical`` and with
      the default model, one worker and ``--workers W``, and without correction (what a folder of good
      photos costs); optionally (``--cli``) the console command;

and prints photos per second (by wall clock and per CPU-second, which stays fair when other jobs share
the machine) and the ratio (b)/(a). The output is also written to
``bench/results/bench_run.txt``.

    OMP_NUM_THREADS=1 python bench/bench_run.py [--n 8] [--workers 2] [--cli] [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from clairvoyance import degrade  # noqa: E402
from clairvoyance.detection import DEFAULT_DETECTOR  # noqa: E402
from clairvoyance.pipeline import Clairvoyance  # noqa: E402
from clairvoyance.scoring import default_model_name  # noqa: E402

SIZE = (4000, 3000)


def portraits() -> list[np.ndarray]:
    """Head-and-shoulders pictures that ship with the dev dependencies (RGB uint8)."""
    from matplotlib import cbook
    from skimage import data

    with cbook.get_sample_data("grace_hopper.jpg") as f:
        hopper = np.asarray(Image.open(f).convert("RGB"))
    astro = data.astronaut()[:400, 60:420]  # her head and shoulders, without the shuttle's edge
    return [astro, hopper]


def background(rng: np.random.Generator) -> np.ndarray:
    """A smooth colour gradient with fine texture, so the JPEG is as costly to decode as a photo."""
    w, h = SIZE
    small = rng.integers(40, 220, (6, 8, 3)).astype(np.uint8)
    bg = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).astype(np.int16)
    bg += rng.integers(-12, 13, (h, w, 1), dtype=np.int16)
    return np.clip(bg, 0, 255).astype(np.uint8)


def paste(canvas: np.ndarray, img: np.ndarray, height: int, x: int, y: int) -> None:
    w = round(img.shape[1] * height / img.shape[0])
    canvas[y : y + height, x : x + w] = cv2.resize(img, (w, height), interpolation=cv2.INTER_CUBIC)


def make_photos(folder: Path, n: int, seed: int = 0) -> list[str]:
    """Write ``n`` 12-megapixel JPEGs; returns a line per photo saying what it holds."""
    rng = np.random.default_rng(seed)
    faces = portraits()
    bad = [("blur", lambda im: degrade.defocus_blur(im, 14)),
           ("noise", lambda im: degrade.sensor_noise(im, 28, rng)),
           ("dark", lambda im: degrade.exposure(im, -2.5))]
    notes = []
    for i in range(n):
        canvas = background(rng)
        paste(canvas, faces[i % 2], 2400, 600 + 200 * (i % 3), 300)
        what = ["large face"]
        if i % 2:
            paste(canvas, faces[(i + 1) % 2], 420, 3300, 2400)  # face ~150 px: crop from full resolution
            what.append("small face")
        if i % 2 == 0 and i // 2 % 4 != 3:
            name, fn = bad[(i // 2) % 3]
            canvas = fn(canvas)
            what.append(name)
        Image.fromarray(canvas).save(folder / f"photo_{i:03d}.jpg", quality=92)
        notes.append(f"photo_{i:03d}.jpg: {', '.join(what)}")
    return notes


def decode_all(files: list[Path]) -> None:
    for f in files:
        with Image.open(f) as im:
            np.asarray(im.convert("RGB"))


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds and CPU seconds (all threads, and child processes) of one measurement."""

    wall: float
    cpu: float


def timed(fn) -> Timing:
    """Time ``fn()``; CPU time stays fair when other jobs share the machine, wall time does not."""
    w0, c0, k0 = time.perf_counter(), time.process_time(), _children_cpu()
    fn()
    return Timing(time.perf_counter() - w0, time.process_time() - c0 + _children_cpu() - k0)


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def best(fn, repeat: int) -> Timing:
    runs = [timed(fn) for _ in range(repeat)]
    return Timing(min(t.wall for t in runs), min(t.cpu for t in runs))


def run_api(src: Path, out: Path, model: str, workers: int, correct: bool = True) -> dict:
    """Run the pipeline once; returns how many photos got each status."""
    shutil.rmtree(out, ignore_errors=True)
    r = Clairvoyance(model=model, input_dir=src, output_dir=out, workers=workers,
                     correct=correct).run(log=lambda _m: None)
    return {s: r.count(s) for s in ("selected", "corrected", "rejected", "no_face", "error") if r.count(s)}


def run_cli(src: Path, out: Path, model: str, workers: int) -> None:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "clairvoyance.cli", "run", str(src), "-o", str(out), "--model", model,
           "--workers", str(workers), "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=8, help="number of synthetic photos (default 8)")
    ap.add_argument("--workers", type=int, default=2, help="workers for the parallel run (default 2)")
    ap.add_argument("--cli", action="store_true", help="also time the console command (adds start-up time)")
    ap.add_argument("--repeat", type=int, default=1, help="time each line this many times, keep the fastest "
                    "(steadier on a busy machine)")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "bench_run.txt")
    args = ap.parse_args(argv)

    lines: list[str] = []

    def say(s: str = "") -> None:
        lines.append(s)
        print(s, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "photos", Path(tmp) / "out"
        src.mkdir()
        t_make = timed(lambda: lines.extend(make_photos(src, args.n))).wall
        files = sorted(src.glob("*.jpg"))
        mb = sum(f.stat().st_size for f in files) / len(files) / 1e6
        notes = lines[:]
        lines.clear()
        say(f"# bench_run: {args.n} synthetic {SIZE[0]}x{SIZE[1]} JPEGs (~{mb:.1f} MB each, made in {t_make:.0f} s)")
        load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
        say(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs{load}, best of {args.repeat}, "
            f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, detector {DEFAULT_DETECTOR}, "
            f"default model {default_model_name()}")
        for s in notes:
            say(f"#   {s}")
        decode_all(files[:1])  # warm the file cache
        dec = best(lambda: decode_all(files), args.repeat)
        say()
        say("photos/s by wall clock, and per CPU-second (fair on a shared machine); ratios are (b)/(a).")
        say(f"{'what':56s} {'wall s':>7s} {'ph/s':>6s} {'ratio':>6s} {'CPU s':>7s} {'ph/CPU-s':>8s} {'ratio':>6s}")

        def line(what: str, t: Timing, extra: str = "") -> None:
            say(f"{what:56s} {t.wall:7.2f} {args.n / t.wall:6.2f} {dec.wall / t.wall:6.2f} {t.cpu:7.2f} "
                f"{args.n / t.cpu:8.2f} {dec.cpu / t.cpu:6.2f}  {extra}".rstrip())

        line("(a) decode only (Pillow, full resolution, RGB)", dec)
        runs = [("classical", 1), ("classical", args.workers)]
        if default_model_name() != "classical":
            runs += [(default_model_name(), 1), (default_model_name(), args.workers)]
        for model in dict(runs):  # load the detector and the models outside the timings
            Clairvoyance(model=model).classify(Clairvoyance(model=model).identify(files[0]))
        for model, w in runs:
            counts = {}
            t = best(lambda: counts.update(run_api(src, out, model, w)), args.repeat)
            line(f"(b) Clairvoyance(model={model!r}, workers={w}).run()", t, str(counts))
        counts = {}
        t = best(lambda: counts.update(run_api(src, out, "classical", 1, correct=False)), args.repeat)
        line("(b) the same, classical, workers=1, correct=False", t, f"{counts} (no correction: the floor)")
        if args.cli:
            for w in (1, args.workers):
                t = best(lambda: run_cli(src, out, "classical", w), args.repeat)
                line(f"(b) clairvoyance run --model classical --workers {w}", t, "(with interpreter start-up)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
