"""Shared fixtures: real small photos of people (scikit-image's astronaut, matplotlib's Grace Hopper)
written into temporary folders, and a way to drive the CLI end to end.

Tests that rely on the classical back-end's behaviour name ``--model classical`` explicitly: a learned
model may be the default.
"""
from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # two cores: keep OpenCV/torch from oversubscribing

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from clairvoyance import degrade

#: The classical model, named explicitly (the default model may change).
CLASSICAL = ("--model", "classical")


# --- source pictures -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """Eileen Collins, 512x512 RGB; YuNet finds her face near (178, 63, 89, 112)."""
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="session")
def dark_astronaut(astronaut) -> np.ndarray:
    """The astronaut 3 stops under, with the grain of its capture (2 levels, seeded): it fails
    lighting only, and brightening it raises that grain until it fails noise too."""
    from clairvoyance import degrade

    dark = degrade.exposure(astronaut, -3.0)
    return degrade.sensor_noise(dark, 2.0, np.random.default_rng(0), chroma=0.3, signal_dependence=0.5)


@pytest.fixture(scope="session")
def hopper() -> np.ndarray:
    """Grace Hopper, 512 wide x 600 high RGB (not square: EXIF rotation shows in the box)."""
    from matplotlib import cbook

    with cbook.get_sample_data("grace_hopper.jpg") as f:
        return np.asarray(Image.open(f).convert("RGB"))


@pytest.fixture(scope="session")
def coffee() -> np.ndarray:
    """A cup of coffee: no person in it."""
    from skimage import data

    return data.coffee()


@pytest.fixture(scope="session")
def two_people(astronaut, hopper) -> np.ndarray:
    """Astronaut (small face, left) and Grace Hopper (large face, right) side by side, 949x512."""
    import cv2

    h = cv2.resize(hopper, (round(hopper.shape[1] * 512 / hopper.shape[0]), 512), interpolation=cv2.INTER_AREA)
    return np.concatenate([astronaut, h], axis=1)


@pytest.fixture(scope="session")
def two_people_one_blurred(two_people) -> np.ndarray:
    """The two-person photo with the astronaut's (smaller) face badly out of focus, beyond repair."""
    out = two_people.copy()
    out[:, :512] = degrade.defocus_blur(two_people[:, :512], 8)
    return out


# --- writing files -----------------------------------------------------------------------------------
def jpeg_bytes(rgb: np.ndarray, quality: int = 92, **opts) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality, **opts)
    return buf.getvalue()


def write_jpeg(path: Path, rgb: np.ndarray, **opts) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(jpeg_bytes(rgb, **opts))
    return path


def write_png(path: Path, img: Image.Image) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="PNG")
    return path


def png_header_only(width: int, height: int) -> bytes:
    """A small, valid PNG whose header claims ``width`` x ``height``: a decompression bomb's calling card."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def exif_rotated_jpeg(upright: np.ndarray) -> bytes:
    """A JPEG stored on its side with EXIF orientation 6 ("rotate 90 degrees clockwise to view"):
    viewers, and Clairvoyance, show ``upright``."""
    stored = np.ascontiguousarray(np.rot90(upright, 1))  # the camera's sensor view: upright turned left
    exif = Image.Exif()
    exif[0x0112] = 6
    return jpeg_bytes(stored, quality=95, exif=exif.tobytes())


def tree_hashes(root: Path) -> dict[str, str]:
    """SHA-256 of every regular file under ``root`` (links not followed), by relative path."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for n in files:
            p = Path(dirpath) / n
            if p.is_symlink():
                out[p.relative_to(root).as_posix()] = "-> " + os.readlink(p)
            else:
                out[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def listing(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


# --- photo folders -------------------------------------------------------------------------------------
@pytest.fixture
def good_jpeg(tmp_path, astronaut) -> Path:
    """One sharp, well-exposed portrait."""
    return write_jpeg(tmp_path / "single" / "astronaut.jpg", astronaut)


def make_shoot(d: Path, astronaut: np.ndarray, hopper: np.ndarray, coffee: np.ndarray) -> Path:
    """A small shoot in ``d``, one photo per outcome with the classical model (``EXPECTED_SHOOT``):

    astronaut.jpg (selected), sub/hopper.jpg (selected, in a subfolder), dark.jpg (-2 EV: corrected),
    blurred.jpg (defocus r 8: rejected), coffee.jpg (no_face), broken.jpg (truncated: error).
    """
    write_jpeg(d / "astronaut.jpg", astronaut)
    write_jpeg(d / "sub" / "hopper.jpg", hopper)
    write_jpeg(d / "dark.jpg", degrade.exposure(astronaut, -2.0))
    write_jpeg(d / "blurred.jpg", degrade.defocus_blur(astronaut, 8))
    write_jpeg(d / "coffee.jpg", coffee)
    (d / "broken.jpg").write_bytes(jpeg_bytes(hopper)[:6000])
    return d


@pytest.fixture
def shoot(tmp_path, astronaut, hopper, coffee) -> Path:
    """``make_shoot`` in a fresh folder."""
    return make_shoot(tmp_path / "shoot", astronaut, hopper, coffee)


EXPECTED_SHOOT = {
    "astronaut.jpg": "selected",
    "sub/hopper.jpg": "selected",
    "dark.jpg": "corrected",
    "blurred.jpg": "rejected",
    "coffee.jpg": "no_face",
    "broken.jpg": "error",
}


@pytest.fixture
def clean_shoot(tmp_path, astronaut, hopper) -> Path:
    """Two good photos only (every file succeeds: exit code 0)."""
    d = tmp_path / "clean"
    write_jpeg(d / "astronaut.jpg", astronaut)
    write_jpeg(d / "sub" / "hopper.jpg", hopper)
    return d


# --- the CLI ---------------------------------------------------------------------------------------------
@pytest.fixture
def cli():
    """Run ``clairvoyance ARGS...`` in-process; returns click's Result (exit_code, stdout, stderr)."""
    from clairvoyance.cli import main

    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke
