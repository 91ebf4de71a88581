"""How fast is scoring? Milliseconds per face for every quality model, in batches, on this CPU.

Usage: python bench/bench_iqa.py [--model NAME ...] [--batch 16] [--repeats 5] [--threads N] [--keep-tiny] [--scene]
(``--keep-tiny`` also times each learned model loaded without ``flush_subnormals``, interleaved;
``--scene`` also times a photo without people, judged on the areas of its 960x720 view, against
its one reduced square, ``QualityModel.score_faces``.)
Target (issue 3): at most 10 ms per face in batches on the CPU; the ratio column is time / 10 ms.
Crops are degraded versions of scikit-image's astronaut, so every branch of a model does real work.
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch

from clairvoyance.scoring import available_models, get_model, model_file
from clairvoyance.scoring.cnn import CNNModel
from clairvoyance.training import synth

TARGET_MS = 10.0


def _crops(n: int) -> list[np.ndarray]:
    import cv2
    from skimage import data

    face = cv2.resize(data.astronaut()[30:230, 150:350], (256, 256), interpolation=cv2.INTER_AREA)
    return [synth.sample(face, np.random.default_rng(i))[0] for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", action="append", help="model name or file (repeatable); default: all shipped")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    ap.add_argument("--keep-tiny", action="store_true",
                    help="also time each learned model with its tiny (subnormal-making) weights kept")
    ap.add_argument("--scene", action="store_true", help="also time a photo judged whole, on its areas")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    crops = _crops(a.batch)
    natives = [256] * a.batch
    print(f"# {platform.machine()}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}, "
          f"load average {os.getloadavg()[0]:.1f}, batch {a.batch}, best of {a.repeats}")
    print(f"{'model':<32} {'ms/face':>8} {'ratio to 10 ms':>15}")
    for name in a.model or available_models():
        m = get_model(name)
        kept = _unflushed(name) if a.keep_tiny and isinstance(m, CNNModel) else None
        runs = [m] if kept is None else [m, kept] * 3  # interleaved, so both see the same machine
        best: dict[int, float] = {}
        for model in runs:
            model.predict(crops, natives)  # warm-up
            for _ in range(a.repeats):
                seconds = _seconds(lambda: model.predict(crops, natives))
                best[id(model)] = min(best.get(id(model), float("inf")), seconds)
        for model, label in [(m, m.label)] + ([(kept, m.label + " tiny kept")] if kept else []):
            ms = 1000 * best[id(model)] / a.batch
            print(f"{label:<32} {ms:8.1f} {ms / TARGET_MS:15.2f}")
        if a.scene:
            _time_scene(m, a.repeats)


def _time_scene(m, repeats: int) -> None:
    """A photo without people: its 12 areas against its one reduced square, in ms per photo."""
    import cv2
    from dataclasses import replace
    from pathlib import Path
    from skimage import data

    from clairvoyance.detection import whole_image_face
    from clairvoyance.images import Photo

    view = cv2.resize(data.coffee(), (960, 720), interpolation=cv2.INTER_CUBIC)
    scene = whole_image_face(Photo(Path("coffee"), view, (4000, 3000), 0.24))
    for face, what in ((scene, f"{len(scene.tiles)} areas"), (replace(scene, tiles=None), "1 square")):
        m.score_faces([face])  # warm-up
        best = min(_seconds(lambda: m.score_faces([face])) for _ in range(repeats))
        print(f"{m.label + ' scene, ' + what:<32} {1000 * best:8.1f} ms/photo")


def _seconds(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _unflushed(name: str) -> CNNModel:
    """The model file loaded as saved, tiny weights and all (``cnn.flush_subnormals`` skipped)."""
    return CNNModel.from_file(model_file(name), flush=False)


if __name__ == "__main__":
    main()
