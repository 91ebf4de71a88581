"""The labels database: schema version and migrations, transactions, WAL, one serialised writer, and a
file that survives its writer being killed mid-write; `train-iqa --labels labels.sqlite` reads it."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from clairvoyance.storage import SCHEMA_VERSION, Storage, StorageError
from clairvoyance.training.dataset import read_human_labels

REPO = Path(__file__).resolve().parents[1]


def test_a_new_database_gets_the_current_schema_in_wal_mode(tmp_path):
    db = Storage(tmp_path / "labels.sqlite")
    assert db.version == SCHEMA_VERSION
    assert db.read("PRAGMA journal_mode")[0][0] == "wal"
    tables = {r[0] for r in db.read("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"schema_version", "labels", "label_history", "predictions", "meta"} <= tables


def test_reopening_keeps_labels_and_does_not_migrate_twice(tmp_path):
    Storage(tmp_path / "l.sqlite").save_label("crops/a.png", 0.1, 0.2, 0.3, who="ana")
    db = Storage(tmp_path / "l.sqlite")
    assert [(x.file, x.focus, x.who) for x in db.labels()] == [("crops/a.png", 0.1, "ana")]
    assert db.read("SELECT COUNT(*) FROM schema_version")[0][0] == 1


def test_a_database_from_a_newer_version_is_refused(tmp_path):
    Storage(tmp_path / "l.sqlite").write(lambda con: con.execute("UPDATE schema_version SET version = 99"))
    with pytest.raises(StorageError, match="newer"):
        Storage(tmp_path / "l.sqlite")


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path):
    (tmp_path / "l.sqlite").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="cannot use"):
        Storage(tmp_path / "l.sqlite")


def test_a_hand_made_labels_table_is_adopted(tmp_path):
    con = sqlite3.connect(tmp_path / "old.sqlite")
    con.execute("CREATE TABLE labels (file TEXT PRIMARY KEY, focus REAL, noise REAL, lighting REAL)")
    con.execute("INSERT INTO labels VALUES ('crops/a.png', 0.5, 0.6, 0.7)")
    con.commit()
    con.close()
    db = Storage(tmp_path / "old.sqlite")
    assert db.version == SCHEMA_VERSION and db.label("crops/a.png").noise == 0.6
    db.save_label("crops/b.png", 1, 1, 1, who="bo", model="iqa@1", prediction=(0.9, 0.9, 0.9))
    assert db.label("crops/b.png").prediction == (0.9, 0.9, 0.9)


def test_a_label_keeps_who_when_and_the_prediction_and_every_save_is_in_the_history(tmp_path):
    db = Storage(tmp_path / "l.sqlite")
    db.save_label("crops/a.png", 0.4, 0.5, 0.6, who="ana", model="iqa@1", prediction=(0.5, 0.5, 0.5))
    db.save_label("crops/a.png", 0.3, 0.5, 0.6, who="bo", model="iqa@1", prediction=(0.5, 0.5, 0.5))
    [lab] = db.labels()
    assert (lab.focus, lab.who, lab.model, lab.prediction) == (0.3, "bo", "iqa@1", (0.5, 0.5, 0.5))
    assert lab.labelled_at[:4].isdigit() and "T" in lab.labelled_at
    assert [h.who for h in db.history("crops/a.png")] == ["ana", "bo"]
    assert db.mean_abs_change() == {"n": 1, "focus": 0.2, "noise": 0.0, "lighting": 0.1}


def test_out_of_range_labels_change_nothing(tmp_path):
    db = Storage(tmp_path / "l.sqlite")
    for bad in ((1.2, 0.5, 0.5), (0.5, -0.1, 0.5), (0.5, 0.5, float("nan"))):
        with pytest.raises(ValueError):
            db.save_label("crops/a.png", *bad)
    assert db.labels() == [] and db.history() == []


def test_a_failed_transaction_leaves_nothing_behind(tmp_path):
    db = Storage(tmp_path / "l.sqlite")

    def half(con):
        con.execute("INSERT INTO labels (file, focus, noise, lighting, labelled_at) VALUES ('x', 1, 1, 1, 'now')")
        raise RuntimeError("crash between two statements")

    with pytest.raises(RuntimeError):
        db.write(half)
    assert db.labels() == []


def test_concurrent_writers_are_serialised(tmp_path):
    db = Storage(tmp_path / "l.sqlite")

    def work(k):
        for i in range(25):
            db.save_label(f"crops/{k}_{i}.png", i / 25, 0.5, 0.5, who=str(k))
            db.labels()  # reads interleave with writes

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(db.labels()) == 100 and len(db.history()) == 100


def test_train_iqa_reads_the_studios_database(tmp_path):
    db = Storage(tmp_path / "labels.sqlite")
    db.save_label("crops/a.png", 0.1, 0.9, 0.8, who="ana", model="iqa@1", prediction=(0.5, 0.5, 0.5))
    db.close()
    labels = read_human_labels(tmp_path / "labels.sqlite")
    assert list(labels) == ["crops/a.png"] and labels["crops/a.png"].tolist() == pytest.approx([0.1, 0.9, 0.8])


WRITER = """
import sys
from clairvoyance.storage import Storage
db = Storage(sys.argv[1])
print("ready", flush=True)
i = 0
while True:
    db.save_label(f"crops/{i:06d}.png", (i % 100) / 100, 0.5, 0.5, who="bot", model="m", prediction=(0.5, 0.5, 0.5))
    i += 1
"""


def test_the_database_survives_its_writer_being_killed_mid_write(tmp_path):
    path = tmp_path / "labels.sqlite"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert p.stdout.readline().strip() == "ready"
        t0 = time.time()
        while time.time() - t0 < 20:  # let it commit a few hundred labels, then kill it without warning
            time.sleep(0.2)
            try:
                with sqlite3.connect(path) as c:
                    if c.execute("SELECT COUNT(*) FROM labels").fetchone()[0] >= 50:
                        break
            except sqlite3.OperationalError:
                pass
        os.kill(p.pid, signal.SIGKILL)
    finally:
        p.wait(10)
    db = Storage(path)
    assert db.integrity() == "ok"
    n = len(db.labels())
    assert n >= 50
    # each save wrote its label and its history row in one transaction: never one without the other
    assert len(db.history()) == n
    assert [x.file for x in db.labels()] == [f"crops/{i:06d}.png" for i in range(n)]
    db.save_label("crops/after.png", 1, 1, 1)  # and it takes writes again
