"""How fast is scoring? Milliseconds per face for every quality model, in batches, on this CPU.

Usage: python bench/bench_iqa.py [--model NAME ...] [--batch 16] [--repeats 5] [--threads N]
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

from clairvoyance.scoring import available_models, get_model
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
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    crops = _crops(a.batch)
    natives = [256] * a.batch
    print(f"# {platform.machine()}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}, "
          f"load average {os.getloadavg()[0]:.1f}, batch {a.batch}, best of {a.repeats}")
    print(f"{'model':<16} {'ms/face':>8} {'ratio to 10 ms':>15}")
    for name in a.model or available_models():
        m = get_model(name)
        m.predict(crops, natives)  # warm-up
        best = float("inf")
        for _ in range(a.repeats):
            t = time.perf_counter()
            m.predict(crops, natives)
            best = min(best, time.perf_counter() - t)
        ms = 1000 * best / a.batch
        print(f"{m.label:<16} {ms:8.1f} {ms / TARGET_MS:15.2f}")


if __name__ == "__main__":
    main()
