"""Helpers for the web app's tests: a photo folder with one photo per case, a tiny labelling dataset,
and the real server (uvicorn) in a thread on a free port."""
from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from clairvoyance import degrade
from clairvoyance.training import chart
from clairvoyance.training.dataset import write_manifest

from conftest import jpeg_bytes, write_jpeg


def make_photo_dir(d: Path, astronaut: np.ndarray, hopper: np.ndarray, coffee: np.ndarray) -> Path:
    """astronaut.jpg (passes), dark.jpg (-2 EV: lighting fails, correctable), sub/hopper.jpg, coffee.jpg
    (no face), fake.jpg (text), notes.txt; and outside it ``d.parent/outside.jpg`` with a symlink
    ``link.jpg`` to it (which must never be served)."""
    write_jpeg(d / "astronaut.jpg", astronaut)
    write_jpeg(d / "dark.jpg", degrade.exposure(astronaut, -2.0))
    write_jpeg(d / "sub" / "hopper.jpg", hopper)
    write_jpeg(d / "coffee.jpg", coffee)
    (d / "fake.jpg").write_text("not a photo at all")
    (d / "notes.txt").write_text("a note")
    outside = write_jpeg(d.parent / "outside.jpg", coffee)
    os.symlink(outside, d / "link.jpg")
    os.symlink(d.parent, d / "uplink")  # a folder link out of the tree
    return d


#: The crops of the tiny dataset: name -> how the chart's face is degraded.
DATASET = {
    "clean": lambda f: f,
    "blurred": lambda f: degrade.gaussian_blur(f, 1.6),
    "noisy": lambda f: degrade.sensor_noise(f, 14.0, np.random.default_rng(0)),
    "dark": lambda f: degrade.exposure(f, -1.8),
}


def make_dataset(d: Path) -> Path:
    """A dataset folder as `clairvoyance dataset build` makes it: crops/*.png and manifest.csv."""
    face = chart.reference_face()
    rows = []
    for i, (name, fn) in enumerate(DATASET.items()):
        rel = f"crops/person{i}_{name}.png"
        (d / "crops").mkdir(parents=True, exist_ok=True)
        Image.fromarray(fn(face)).save(d / rel)
        rows.append({"crop": rel, "source": f"photos/person{i}.jpg", "group": f"photos/person{i}", "x": 0, "y": 0,
                     "w": 256, "h": 256, "native": 256, "split": "train"})
    write_manifest(d, rows)
    return d


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerThread:
    """``app`` served by uvicorn on 127.0.0.1:<free port> in a daemon thread (a real HTTP server)."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "ServerThread":
        self.thread.start()
        t0 = time.time()
        while not self.server.started:
            if time.time() - t0 > 20 or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


__all__ = ["make_photo_dir", "make_dataset", "free_port", "ServerThread", "jpeg_bytes"]
