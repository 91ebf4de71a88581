"""Face-crop datasets: built from folders of photos, split by source photo, read for training.

``DATA_DIR/manifest.csv`` lists every crop with the photo it came from, its group (the unit of
the split: one person of a studio set, or one photo whatever its resolution variants), its box
and native size, and its split (train/val/test, 70/15/15 by a hash of the group, so adding
photos never moves old ones between splits).
"""
from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
from PIL import Image

from ..detection import identify
from ..errors import ImageLoadError
from ..images import IMAGE_EXTENSIONS, read_photo
from ..publish import encode_image, write_bytes, write_text

MANIFEST = "manifest.csv"
FIELDS = ["crop", "source", "group", "x", "y", "w", "h", "native", "split"]
#: Faces smaller than this (native pixels) are not used as clean references.
MIN_NATIVE = 128


def group_of(rel_source: str) -> str:
    """The split unit of a photo: studio sets' person id (``001_03.jpg`` -> ``001``), and
    resolution variants (``obama-720p.jpg``) folded into one photo."""
    p = Path(rel_source)
    stem = re.sub(r"-\d{3,4}p$", "", p.stem)
    m = re.match(r"^(\d{3})_\d{2}$", stem)
    if m:
        stem = m.group(1)
    parts = [q for q in p.parent.parts if q not in ("neutral", "smiling")]
    return "/".join([*parts, stem])


def split_of(group: str, val: float = 0.15, test: float = 0.15) -> str:
    h = int(hashlib.sha1(group.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if h < test else "val" if h < test + val else "train"


def build(sources: Iterable[Path], out: Path, min_native: int = MIN_NATIVE, progress=None, log=print) -> list[dict]:
    """Detect faces in every photo under ``sources``, save 256x256 crops and the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    files = [(src, p) for src in sources for p in sorted(Path(src).rglob("*")) if p.suffix.lower() in IMAGE_EXTENSIONS]
    it = progress(files) if progress else files
    for src, p in it:
        rel = f"{Path(src).name}/{p.relative_to(src).as_posix()}"
        try:
            faces = identify(read_photo(p, max_side=960))
        except ImageLoadError as e:
            log(f"skipped {rel}: {e}")
            continue
        group = group_of(rel)
        for i, f in enumerate(faces):
            if f.native_size < min_native:
                continue
            name = f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', rel.rsplit('.', 1)[0])}_f{i}.png"
            write_bytes(encode_image(f.crop, ".png"), out / "crops" / name)
            rows.append({"crop": f"crops/{name}", "source": rel, "group": group, **dict(zip("xywh", f.box.as_list())),
                         "native": f.native_size, "split": split_of(group)})
    write_manifest(out, rows)
    return rows


def write_manifest(out: Path, rows: list[dict]) -> None:
    import io

    buf = io.StringIO()
    w = csv.DictWriter(buf, FIELDS)
    w.writeheader()
    w.writerows(rows)
    write_text(buf.getvalue(), out / MANIFEST)


def read_manifest(data_dir: Path) -> list[dict]:
    with open(Path(data_dir) / MANIFEST, newline="") as f:
        return list(csv.DictReader(f))


@dataclass
class Crops:
    """The clean crops of one split, decoded once into memory (uint8, N x 256 x 256 x 3)."""

    images: np.ndarray
    rows: list[dict]

    @classmethod
    def load(cls, data_dir: Path, split: str) -> "Crops":
        rows = [r for r in read_manifest(data_dir) if r["split"] == split]
        imgs = [np.asarray(Image.open(Path(data_dir) / r["crop"]).convert("RGB")) for r in rows]
        arr = np.stack(imgs) if imgs else np.zeros((0, 256, 256, 3), np.uint8)
        return cls(arr, rows)

    @property
    def natives(self) -> np.ndarray:
        """Each crop's native side in source pixels (a crop below 256 was upscaled)."""
        return np.array([int(float(r.get("native") or 256)) for r in self.rows], np.int64)


def read_human_labels(path: Path) -> dict[str, np.ndarray]:
    """Human labels by crop path: from a CSV (``file, focus, noise, lighting``) or the studio's SQLite."""
    path = Path(path)
    out: dict[str, np.ndarray] = {}
    if path.suffix.lower() in (".sqlite", ".db", ".sqlite3"):
        import sqlite3

        con = sqlite3.connect(path)
        try:
            for file, fo, no, li in con.execute("SELECT file, focus, noise, lighting FROM labels"):
                out[file] = np.array([fo, no, li], np.float32)
        finally:
            con.close()
        return out
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            out[r["file"]] = np.array([float(r["focus"]), float(r["noise"]), float(r["lighting"])], np.float32)
    return out


def load_textures(folders: Iterable[Path], log=print) -> tuple[list[np.ndarray], list[str]]:
    """The clean photos of ``folders`` to cut focus textures from (``synth.texture_crop``) and their
    names: every decodable photo of at least 256 px a side in which the default detector finds no
    face. A photo with a face is left out, so that the real-face checks (the Kodak portraits of
    ``scripts/check_real_faces.py``) stay photos that training never saw."""
    photos, names = [], []
    for folder in folders:
        for p in sorted(Path(folder).iterdir()):
            if p.suffix.lower() not in IMAGE_EXTENSIONS:
                continue
            try:
                photo = read_photo(p)
            except ImageLoadError as e:
                log(f"textures: skipped {p.name}: {e}")
                continue
            if min(photo.rgb.shape[:2]) < 256:
                continue
            if identify(photo):
                log(f"textures: skipped {p.name}: it shows a face")
                continue
            photos.append(photo.rgb)
            names.append(p.name)
    return photos, names
