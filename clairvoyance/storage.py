"""Storage: the web app's state in one SQLite file (stdlib ``sqlite3``), safe to kill at any moment.

* A ``schema_version`` table and numbered migrations: a database made by an older version is brought
  up to date on open; one made by a newer version is refused rather than misread.
* WAL journal with ``synchronous=FULL``: readers never block the writer, and every committed label
  is on disk before the call returns. Each write is one transaction, so a server killed mid-write
  leaves the last committed state, never half a label.
* Writes are serialised through one connection behind a lock (datasette's pattern); reads use one
  connection per thread.

The ``labels`` table keeps the columns ``file, focus, noise, lighting`` that ``train-iqa --labels``
reads (``training.dataset.read_human_labels``); ``file`` is the crop's path relative to the dataset
folder, as in its ``manifest.csv``. Every save is also appended to ``label_history``.
"""
from __future__ import annotations

import csv
import io
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, TypeVar

from .errors import ClairvoyanceError
from .types import AXES

T = TypeVar("T")

#: Migration N (1-based) brings the schema from version N-1 to N. Append, never edit.
MIGRATIONS: tuple[str, ...] = (
    # 1: labels with who/when and the model's prediction at that time; the full history; cached predictions
    """
    CREATE TABLE IF NOT EXISTS labels (
        file TEXT PRIMARY KEY,
        focus REAL NOT NULL CHECK (focus BETWEEN 0 AND 1),
        noise REAL NOT NULL CHECK (noise BETWEEN 0 AND 1),
        lighting REAL NOT NULL CHECK (lighting BETWEEN 0 AND 1),
        who TEXT NOT NULL DEFAULT '',
        labelled_at TEXT NOT NULL,
        model TEXT,
        pred_focus REAL,
        pred_noise REAL,
        pred_lighting REAL
    );
    CREATE TABLE IF NOT EXISTS label_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        file TEXT NOT NULL,
        focus REAL NOT NULL,
        noise REAL NOT NULL,
        lighting REAL NOT NULL,
        who TEXT NOT NULL DEFAULT '',
        labelled_at TEXT NOT NULL,
        model TEXT,
        pred_focus REAL,
        pred_noise REAL,
        pred_lighting REAL
    );
    CREATE INDEX IF NOT EXISTS label_history_file ON label_history (file);
    CREATE TABLE IF NOT EXISTS predictions (
        file TEXT NOT NULL,
        model TEXT NOT NULL,
        focus REAL NOT NULL,
        noise REAL NOT NULL,
        lighting REAL NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (file, model)
    );
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
#: Columns that ``labels`` had before versioning (a hand-made ``file, focus, noise, lighting`` table).
_LEGACY_COLUMNS = {"who": "TEXT NOT NULL DEFAULT ''", "labelled_at": "TEXT NOT NULL DEFAULT ''", "model": "TEXT",
                   "pred_focus": "REAL", "pred_noise": "REAL", "pred_lighting": "REAL"}
EXPORT_FIELDS = ["file", *AXES, "who", "labelled_at", "model", "pred_focus", "pred_noise", "pred_lighting"]


class StorageError(ClairvoyanceError):
    """The database cannot be used: unreadable, or made by a newer version of Clairvoyance."""


@dataclass(frozen=True)
class Label:
    """One human label of a face crop, with who gave it, when, and what the model predicted then."""

    file: str
    focus: float
    noise: float
    lighting: float
    who: str
    labelled_at: str
    model: str | None = None
    prediction: tuple[float, float, float] | None = None

    def as_dict(self) -> dict:
        d = {"file": self.file, **{a: getattr(self, a) for a in AXES}, "who": self.who,
             "labelled_at": self.labelled_at, "model": self.model,
             "prediction": dict(zip(AXES, self.prediction)) if self.prediction else None}
        return d


def now() -> str:
    """The current time as an ISO 8601 UTC string (seconds)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _check_unit(name: str, v: float) -> float:
    v = float(v)
    if not 0.0 <= v <= 1.0:  # also refuses NaN
        raise ValueError(f"{name} must be in [0, 1], got {v}")
    return v


class Storage:
    """The labels database at ``path`` (``":memory:"`` for tests), migrated on open."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self.memory = self.path == ":memory:"
        self._lock = threading.Lock()  # the one writer
        self._local = threading.local()
        try:
            self._writer = self._connect()
            self._migrate()
        except sqlite3.DatabaseError as e:
            raise StorageError(f"cannot use {self.path} as a labels database: {e}") from e

    # --- connections -------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        if not self.memory:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA busy_timeout = 30000")
        if not self.memory:
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = FULL")
        return con

    def _reader(self) -> sqlite3.Connection:
        if self.memory:  # one in-memory database: every read goes through the writer's connection
            return self._writer
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = self._connect()
        return con

    def close(self) -> None:
        with self._lock:
            self._writer.close()
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(connection)`` as one serialised transaction: all of it is committed, or none."""
        with self._lock:
            con = self._writer
            con.execute("BEGIN IMMEDIATE")
            try:
                out = fn(con)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
            return out

    def read(self, sql: str, params: Iterable = ()) -> list[sqlite3.Row]:
        if self.memory:
            with self._lock:
                return self._writer.execute(sql, tuple(params)).fetchall()
        return self._reader().execute(sql, tuple(params)).fetchall()

    # --- schema --------------------------------------------------------------------------------
    @property
    def version(self) -> int:
        rows = self.read("SELECT version FROM schema_version")
        return int(rows[0]["version"]) if rows else 0

    def _migrate(self) -> None:
        def run(con: sqlite3.Connection) -> None:
            con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = con.execute("SELECT version FROM schema_version").fetchone()
            v = int(row[0]) if row else 0
            if v > SCHEMA_VERSION:
                raise StorageError(f"{self.path} has schema version {v}, newer than this Clairvoyance "
                                   f"understands ({SCHEMA_VERSION}); upgrade Clairvoyance")
            if v == 0:
                self._adopt_legacy(con)
            for n in range(v + 1, SCHEMA_VERSION + 1):
                for stmt in _statements(MIGRATIONS[n - 1]):
                    con.execute(stmt)
            if row is None:
                con.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            else:
                con.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))

        self.write(run)

    @staticmethod
    def _adopt_legacy(con: sqlite3.Connection) -> None:
        """A ``labels(file, focus, noise, lighting)`` table made by hand before versioning gains the new columns."""
        cols = {r[1] for r in con.execute("PRAGMA table_info(labels)")}
        if not cols:
            return
        for name, decl in _LEGACY_COLUMNS.items():
            if name not in cols:
                con.execute(f"ALTER TABLE labels ADD COLUMN {name} {decl}")

    def get_meta(self, key: str) -> str | None:
        rows = self.read("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self.write(lambda con: con.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                                           "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value)))

    # --- labels --------------------------------------------------------------------------------
    def save_label(self, file: str, focus: float, noise: float, lighting: float, who: str = "",
                   model: str | None = None, prediction: tuple[float, float, float] | None = None,
                   at: str | None = None) -> Label:
        """Save (or replace) the label of ``file`` and append it to the history, in one transaction."""
        if not file:
            raise ValueError("file must not be empty")
        values = tuple(_check_unit(a, v) for a, v in zip(AXES, (focus, noise, lighting)))
        pred = tuple(float(p) for p in prediction) if prediction is not None else None
        label = Label(file, *values, who=who or "", labelled_at=at or now(), model=model, prediction=pred)
        row = (file, *values, label.who, label.labelled_at, model, *(pred or (None, None, None)))

        def run(con: sqlite3.Connection) -> None:
            con.execute("INSERT INTO labels (file, focus, noise, lighting, who, labelled_at, model, pred_focus, "
                        "pred_noise, pred_lighting) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(file) DO "
                        "UPDATE SET focus = excluded.focus, noise = excluded.noise, lighting = excluded.lighting, "
                        "who = excluded.who, labelled_at = excluded.labelled_at, model = excluded.model, "
                        "pred_focus = excluded.pred_focus, pred_noise = excluded.pred_noise, "
                        "pred_lighting = excluded.pred_lighting", row)
            con.execute("INSERT INTO label_history (file, focus, noise, lighting, who, labelled_at, model, "
                        "pred_focus, pred_noise, pred_lighting) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)

        self.write(run)
        return label

    def delete_label(self, file: str) -> bool:
        return self.write(lambda con: con.execute("DELETE FROM labels WHERE file = ?", (file,)).rowcount) > 0

    def labels(self) -> list[Label]:
        return [_label(r) for r in self.read("SELECT * FROM labels ORDER BY file")]

    def label(self, file: str) -> Label | None:
        rows = self.read("SELECT * FROM labels WHERE file = ?", (file,))
        return _label(rows[0]) if rows else None

    def history(self, file: str | None = None) -> list[Label]:
        sql, params = "SELECT * FROM label_history ORDER BY id", ()
        if file is not None:
            sql, params = "SELECT * FROM label_history WHERE file = ? ORDER BY id", (file,)
        return [_label(r) for r in self.read(sql, params)]

    def mean_abs_change(self) -> dict:
        """Per axis, how far the labels moved from the model's predictions (mean |label - prediction|),
        over the labels saved with a prediction; ``n`` says how many."""
        rows = self.read("SELECT " + ", ".join(f"AVG(ABS({a} - pred_{a})) AS {a}" for a in AXES)
                         + ", COUNT(*) AS n FROM labels WHERE pred_focus IS NOT NULL")
        r = rows[0]
        return {"n": int(r["n"]), **{a: (round(float(r[a]), 4) if r[a] is not None else None) for a in AXES}}

    def export_csv(self) -> str:
        """Every label as CSV: ``file,focus,noise,lighting`` (what ``train-iqa --labels`` reads), then who,
        when, the model and its prediction."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(EXPORT_FIELDS)
        for lab in self.labels():
            pred = lab.prediction or (None, None, None)
            w.writerow([lab.file, lab.focus, lab.noise, lab.lighting, lab.who, lab.labelled_at, lab.model or "",
                        *("" if p is None else round(p, 4) for p in pred)])
        return buf.getvalue()

    # --- cached model predictions -------------------------------------------------------------
    def prediction(self, file: str, model: str) -> tuple[float, float, float] | None:
        rows = self.read("SELECT focus, noise, lighting FROM predictions WHERE file = ? AND model = ?", (file, model))
        return (rows[0]["focus"], rows[0]["noise"], rows[0]["lighting"]) if rows else None

    def save_prediction(self, file: str, model: str, scores: tuple[float, float, float]) -> None:
        self.write(lambda con: con.execute(
            "INSERT INTO predictions (file, model, focus, noise, lighting, created_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(file, model) DO NOTHING", (file, model, *map(float, scores), now())))

    def integrity(self) -> str:
        return self.read("PRAGMA integrity_check")[0][0]


def _label(r: sqlite3.Row) -> Label:
    pred = (r["pred_focus"], r["pred_noise"], r["pred_lighting"])
    return Label(r["file"], r["focus"], r["noise"], r["lighting"], r["who"] or "", r["labelled_at"] or "",
                 r["model"], None if pred[0] is None else tuple(map(float, pred)))


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
