"""What one running web app holds: its folders, its database, its models, and small caches.

Models load on first use (nothing heavy when the app is built). Detection and scoring run one at a
time behind ``compute_lock``: the detector keeps per-call state and two cores gain nothing from more.
"""
from __future__ import annotations

import hashlib
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Hashable, TypeVar

from fastapi import Request

from .. import detection
from ..storage import Storage
from ..types import Face, Scores, Tolerances

T = TypeVar("T")


class LRU:
    """A small thread-safe least-recently-used cache."""

    def __init__(self, size: int):
        self.size, self._d, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
        value = make()
        with self._lock:
            self._d[key] = value
            while len(self._d) > self.size:
                self._d.popitem(last=False)
        return value


@dataclass(frozen=True)
class Analysis:
    """A photo as the browser shows it: its upright size and its faces with their scores."""

    path: Path
    size: tuple[int, int]
    faces: tuple[Face, ...]
    scores: tuple[Scores, ...]


@dataclass
class WebState:
    """Everything a request handler needs; one per app (``request.app.state.cv``)."""

    photo_dir: Path | None
    data_dir: Path | None
    db: Storage
    model_name: str | None = None
    detector: str = detection.DEFAULT_DETECTOR
    #: Smallest face judged (``detection.MIN_FACE_SIDE``), as in ``run``.
    min_face: int = detection.MIN_FACE_SIDE
    tolerances: Tolerances = field(default_factory=Tolerances)
    max_upload_bytes: int = 50_000_000
    upload_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="clairvoyance-uploads-")))
    compute_lock: threading.Lock = field(default_factory=threading.Lock)
    analyses: LRU = field(default_factory=lambda: LRU(16))
    thumbs: LRU = field(default_factory=lambda: LRU(512))
    _model: object = None

    @property
    def model(self):
        """The quality model (loaded on first use)."""
        if self._model is None:
            from ..scoring import get_model

            self._model = get_model(self.model_name)
        return self._model

    def upload_path(self, upload_id: str) -> Path | None:
        """The stored upload called ``upload_id`` (a content hash), if any."""
        if len(upload_id) != 64 or any(c not in "0123456789abcdef" for c in upload_id):
            return None
        hits = sorted(self.upload_dir.glob(f"{upload_id}.*"))
        return hits[0] if hits else None

    def store_upload(self, data: bytes, ext: str, keep: int = 50) -> str:
        """Keep ``data`` under its SHA-256 (the same photo uploaded twice is stored once); only the
        ``keep`` most recent uploads are kept."""
        uid = hashlib.sha256(data).hexdigest()
        dst = self.upload_dir / f"{uid}{ext}"
        if not dst.exists():
            tmp = dst.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.replace(dst)
        dst.touch()
        old = sorted((p for p in self.upload_dir.iterdir() if p.suffix != ".part"), key=lambda p: p.stat().st_mtime)
        for p in old[:-keep]:
            p.unlink(missing_ok=True)
        return uid


def get_state(request: Request) -> WebState:
    """The app's WebState (a FastAPI dependency)."""
    return request.app.state.cv
