"""The run cache: what a rerun needs so that it only works on what changed.

One SQLite file in OUTPUT (``OUTPUT/.clairvoyance/cache.sqlite``), a cache and nothing more: deleting
it costs time, never results. Two tables do the work:

* ``scores``: the faces found in a photo and their scores, keyed by the photo's **content hash** and the
  **score key** (model name@version, detector, crop geometry). A renamed or moved photo is not scored
  again; an edited one is; another model or detector scores everything afresh. Changing tolerances, the verdict rule,
  policy or correction settings re-decides from these scores without running a model.
* ``results``: the finished verdict of a photo (its ``ImageResult``), keyed by its path, its content
  hash and the **decision key** (the score key plus tolerances and their rule, policy and correction settings), with
  the size and mtime of every output it wrote. A photo whose result is here and whose outputs are still
  as written is done: an interrupted run resumes after the last photo it finished.
* ``outputs``: every file a run wrote into OUTPUT, the photo (path and content hash) it belongs to, and
  its size and mtime as written. When a rerun changes the verdict on a photo with the same content, the
  outputs it had and no longer has are removed, but only these, and only while they are still exactly
  as written (``stale_outputs``). Deleting the cache forgets them: they are then never removed.

Each photo is committed on its own (WAL journal), so a run killed at any moment loses at most the
photo it was working on. ``files`` remembers the content hash per (path, size, mtime), so unchanged
photos are not read again just to be hashed.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import threading
from pathlib import Path
from typing import Sequence

from .types import AXES, Box, FaceResult, ImageResult, Scores

#: Where the cache lives, under OUTPUT.
CACHE_DIR = ".clairvoyance"
CACHE_FILE = "cache.sqlite"
#: Bump when the tables or the meaning of a stored value change: an older cache is then started afresh.
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
                                  digest TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scores (digest TEXT NOT NULL, score_key TEXT NOT NULL, faces TEXT NOT NULL,
                                   PRIMARY KEY (digest, score_key));
CREATE TABLE IF NOT EXISTS results (file TEXT NOT NULL, decide_key TEXT NOT NULL, digest TEXT NOT NULL,
                                    result TEXT NOT NULL, outputs TEXT NOT NULL, PRIMARY KEY (file, decide_key));
CREATE TABLE IF NOT EXISTS outputs (path TEXT NOT NULL, file TEXT NOT NULL, digest TEXT NOT NULL,
                                    size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, PRIMARY KEY (path, file));
"""


def file_digest(path: Path) -> str:
    """SHA-256 of a file's content (streamed: RAW files are large)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _full_scores(s: Scores) -> dict[str, float]:
    """Scores at full precision (``Scores.as_dict`` rounds for the report; a verdict at the edge of a
    tolerance must come out the same from the cache as from the model)."""
    return {a: float(getattr(s, a)) for a in AXES}


def faces_to_json(faces: Sequence[FaceResult]) -> str:
    return json.dumps([{"box": f.box.as_list(), "scores": _full_scores(f.scores), "whole_image": f.whole_image}
                       for f in faces])


def _result_to_json(r: ImageResult) -> str:
    d = r.as_dict()
    for fd, f in zip(d["faces"], r.faces):
        fd["scores"] = _full_scores(f.scores)
    return json.dumps(d)


def faces_from_json(text: str) -> list[tuple[Box, Scores, bool]]:
    """(box, scores, whole_image) per face, as they were stored."""
    return [(Box(*d["box"]), Scores(**d["scores"]), bool(d["whole_image"])) for d in json.loads(text)]


def result_from_dict(d: dict) -> ImageResult:
    """The inverse of ``ImageResult.as_dict``."""
    faces = tuple(FaceResult(Box(*f["box"]), Scores(**f["scores"]), tuple(f["failed"]), bool(f.get("whole_image")))
                  for f in d["faces"])
    return ImageResult(d["file"], d["status"], faces, tuple(d["outputs"]), d["error"], d["reason"])


class RunCache:
    """The cache of one OUTPUT folder. Thread-safe (one connection behind a lock); ``read_only`` for
    ``--dry-run``, which reads a cache that exists but never creates or writes one."""

    def __init__(self, out_dir: Path, read_only: bool = False, log=None):
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / CACHE_DIR / CACHE_FILE
        self.read_only = read_only
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if read_only and not self.path.is_file():
            return
        try:
            try:
                self._db = self._open()
            except sqlite3.DatabaseError as e:  # a damaged cache is rebuilt, never trusted
                if read_only:
                    return
                if log:
                    log(f"warning: cache {self.path} unreadable ({e}); starting a new one")
                self.path.unlink(missing_ok=True)
                self._db = self._open()
        except (sqlite3.Error, OSError) as e:  # e.g. OUTPUT not writable: the run goes on without a cache
            self._db = None
            if log:
                log(f"warning: no run cache ({e}); every photo is scored")

    def _open(self) -> sqlite3.Connection:
        if self.read_only:
            db = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True, check_same_thread=False)
            db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            return db
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None or int(row[0]) != SCHEMA_VERSION:
            with db:
                for t in ("files", "scores", "results", "outputs"):
                    db.execute(f"DELETE FROM {t}")
                db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        return db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _query(self, sql: str, args: tuple) -> tuple | None:
        if self._db is None:
            return None
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchone()
            except sqlite3.OperationalError:  # e.g. an old read-only cache without a table
                return None

    def _query_all(self, sql: str, args: tuple) -> list[tuple]:
        if self._db is None:
            return []
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.OperationalError:
                return []

    def _write(self, sql: str, args: tuple) -> None:
        if self._db is None or self.read_only:
            return
        with self._lock, self._db:
            self._db.execute(sql, args)

    # --- content hashes ---------------------------------------------------------------------------
    def digest(self, path: Path) -> str:
        """The content hash of ``path``; read from the cache while its size and mtime are unchanged."""
        st = path.stat()
        key = str(path.resolve())
        row = self._query("SELECT size, mtime_ns, digest FROM files WHERE path=?", (key,))
        if row and row[0] == st.st_size and row[1] == st.st_mtime_ns:
            return row[2]
        d = file_digest(path)
        self._write("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)", (key, st.st_size, st.st_mtime_ns, d))
        return d

    # --- scores -----------------------------------------------------------------------------------
    def faces(self, digest: str, score_key: str) -> list[tuple[Box, Scores, bool]] | None:
        row = self._query("SELECT faces FROM scores WHERE digest=? AND score_key=?", (digest, score_key))
        return faces_from_json(row[0]) if row else None

    def put_faces(self, digest: str, score_key: str, faces: Sequence[FaceResult]) -> None:
        self._write("INSERT OR REPLACE INTO scores VALUES (?, ?, ?)", (digest, score_key, faces_to_json(faces)))

    # --- finished photos --------------------------------------------------------------------------
    def result(self, file: str, digest: str, decide_key: str) -> ImageResult | None:
        """The finished result of ``file`` with this content and these settings, if every output it
        wrote is still there as it was written."""
        row = self._query("SELECT digest, result, outputs FROM results WHERE file=? AND decide_key=?",
                          (file, decide_key))
        if not row or row[0] != digest:
            return None
        for rel, size, mtime_ns in json.loads(row[2]):
            try:
                st = (self.out_dir / rel).stat()
            except OSError:
                return None
            if st.st_size != size or st.st_mtime_ns != mtime_ns:
                return None
        return result_from_dict(json.loads(row[1]))

    def put_result(self, digest: str, decide_key: str, result: ImageResult) -> None:
        if result.status == "error" or self.read_only:  # errors are tried again on every run
            return
        outs = []
        for rel in result.outputs:
            try:
                st = os.stat(self.out_dir / rel)
            except OSError:  # gone already: not a finished result to resume from
                return
            outs.append([rel, st.st_size, st.st_mtime_ns])
        self._write("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?)",
                    (result.file, decide_key, digest, _result_to_json(result), json.dumps(outs)))

    # --- the files runs wrote ---------------------------------------------------------------------
    def record_write(self, path: str, file: str, digest: str) -> None:
        """Remember that a run just wrote ``path`` (relative to OUTPUT) for photo ``file`` with content
        ``digest``. Called as each output is written, so a run killed before its photo finished still
        knows the file is ours."""
        if self._db is None or self.read_only:
            return
        try:
            st = os.stat(self.out_dir / path)
        except OSError:
            return
        with self._lock, self._db:
            self._db.execute("DELETE FROM outputs WHERE path=?", (path,))  # what stood there before is gone
            self._db.execute("INSERT INTO outputs VALUES (?, ?, ?, ?, ?)", (path, file, digest, st.st_size, st.st_mtime_ns))

    def claim_outputs(self, file: str, digest: str, outputs: Sequence[str]) -> None:
        """Photo ``file`` (content ``digest``) has a result that reuses ``outputs`` that already existed:
        those a run wrote (recorded, and unchanged since) are now also this photo's. A file a user put
        there is never recorded, so it is never removed."""
        if self._db is None or self.read_only:
            return
        for rel in outputs:
            try:
                st = os.stat(self.out_dir / rel)
            except OSError:
                continue
            known = self._query_all("SELECT file, digest, size, mtime_ns FROM outputs WHERE path=?", (rel,))
            if (file, digest, st.st_size, st.st_mtime_ns) in known:
                continue  # already this photo's (a rerun writes nothing)
            if any((size, mtime_ns) == (st.st_size, st.st_mtime_ns) for _, _, size, mtime_ns in known):
                self._write("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?, ?)",
                            (rel, file, digest, st.st_size, st.st_mtime_ns))

    def stale_outputs(self, file: str, digest: str, outputs: Sequence[str]) -> list[tuple[str, int, int, bool]]:
        """What runs wrote for photo ``file`` with content ``digest`` that is not among its ``outputs``
        now: (path, size and mtime as written, whether another photo's result uses the same file)."""
        rows = self._query_all("SELECT path, size, mtime_ns FROM outputs WHERE file=? AND digest=?", (file, digest))
        out = []
        for rel, size, mtime_ns in rows:
            if rel in outputs:
                continue
            shared = bool(self._query("SELECT 1 FROM outputs WHERE path=? AND file<>?", (rel, file)))
            out.append((rel, size, mtime_ns, shared))
        return sorted(out)

    def forget_output(self, path: str, file: str) -> None:
        self._write("DELETE FROM outputs WHERE path=? AND file=?", (path, file))


def clean_partial_files(root: Path, recursive: bool = True, only_suffix: str = "") -> list[Path]:
    """Remove the temporary files (``.NAME.XXXXXXXX.part``, see ``publish``) that a killed run left under
    ``root`` (or only in it); ``only_suffix`` narrows NAME to e.g. ``.xmp``. Returns what was removed.
    Only names of exactly that pattern are touched."""
    pattern = re.compile(r"^\..+" + re.escape(only_suffix) + r"\.[a-z0-9_]{8}\.part$")
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    walk = os.walk(root) if recursive else [(str(root), [], [p.name for p in root.iterdir() if p.is_file()])]
    for dirpath, _, files in walk:
        for n in files:
            if pattern.match(n):
                p = Path(dirpath) / n
                p.unlink(missing_ok=True)
                removed.append(p)
    return removed
