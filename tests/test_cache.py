"""Resumable, incremental runs: a rerun scores only new or changed photos, new tolerances re-decide from
cached scores without a model, a run killed half-way resumes with no duplicate or half-written output, and
a rerun that changes a verdict removes the outputs the old verdict made (only those Clairvoyance wrote)."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from clairvoyance import Clairvoyance
from clairvoyance.cache import CACHE_DIR, CACHE_FILE, SCHEMA_VERSION, clean_partial_files
from clairvoyance.scoring import QualityModel, get_model

from conftest import CLASSICAL, EXPECTED_SHOOT, listing, tree_hashes, write_jpeg

REPO = Path(__file__).resolve().parents[1]


class Counting(QualityModel):
    """The classical model, counting the crops it scores (same name@version: same cache entries)."""

    def __init__(self):
        self.inner = get_model("classical")
        self.name, self.version, self.crops = self.inner.name, self.inner.version, 0

    def predict(self, crops, native_sizes=None):
        self.crops += len(crops)
        return self.inner.predict(crops, native_sizes)


def counted_run(d, out, **kw):
    """Run with a counting model; returns (result, model, names of the photos decoded and detected)."""
    model = Counting()
    cv = Clairvoyance(model=model, input_dir=d, output_dir=out, **kw)
    loaded: list[str] = []
    inner = cv._load
    cv._load = lambda p: (loaded.append(p.name), inner(p))[1]
    return cv.run(log=lambda m: None), model, loaded


def statuses(res):
    return {r.file: r.status for r in res.images}


def test_a_rerun_scores_nothing_and_gives_the_same_results(shoot, tmp_path):
    first, m1, loaded1 = counted_run(shoot, tmp_path / "out")
    assert statuses(first) == EXPECTED_SHOOT and m1.crops > 0
    second, m2, loaded2 = counted_run(shoot, tmp_path / "out")
    assert loaded2 == ["broken.jpg"]  # only the unreadable photo is tried again
    assert m2.crops == 0
    assert [r.as_dict() for r in second.images] == [r.as_dict() for r in first.images]
    assert (tmp_path / "out" / CACHE_DIR / CACHE_FILE).is_file()


def test_only_new_or_changed_photos_are_scored(shoot, tmp_path, hopper, astronaut):
    counted_run(shoot, tmp_path / "out")
    write_jpeg(shoot / "astronaut.jpg", astronaut[:, ::-1])  # changed
    write_jpeg(shoot / "new" / "one.jpg", hopper[:, ::-1])  # new
    (shoot / "coffee.jpg").rename(shoot / "espresso.jpg")  # renamed: same content, scores reused
    res, model, loaded = counted_run(shoot, tmp_path / "out")
    assert sorted(loaded) == ["astronaut.jpg", "broken.jpg", "one.jpg"]
    assert model.crops == 2
    assert statuses(res)["espresso.jpg"] == "no_face" and statuses(res)["new/one.jpg"] == "selected"


def test_new_tolerances_are_decided_from_cached_scores_without_a_model(shoot, tmp_path):
    counted_run(shoot, tmp_path / "out")
    strict = dict(tolerances=(0.5, 0.5, 0.999), correct=False)
    res, model, loaded = counted_run(shoot, tmp_path / "out", **strict)
    assert model.crops == 0 and loaded == ["broken.jpg"]
    fresh = Clairvoyance(model="classical", input_dir=shoot, output_dir=tmp_path / "fresh", cache=False,
                         **strict).run(log=lambda m: None)
    assert [r.as_dict() for r in res.images] == [r.as_dict() for r in fresh.images]
    assert "rejected" in statuses(res).values() and statuses(res) != EXPECTED_SHOOT


def test_a_correction_from_cached_scores_decodes_the_photo_again(shoot, tmp_path):
    counted_run(shoot, tmp_path / "out", correct=False)
    res, model, loaded = counted_run(shoot, tmp_path / "out")  # now correct: dark.jpg needs its pixels
    assert statuses(res) == EXPECTED_SHOOT
    assert loaded == ["broken.jpg"] and model.crops > 0  # only the corrected faces were re-scored
    dark = next(r for r in res.images if r.file == "dark.jpg")
    assert all((tmp_path / "out" / o).is_file() for o in dark.outputs)


def test_no_cache_and_dry_run_leave_no_cache_behind(shoot, tmp_path):
    Clairvoyance(model="classical", input_dir=shoot, output_dir=tmp_path / "a", cache=False).run(log=lambda m: None)
    Clairvoyance(model="classical", input_dir=shoot, output_dir=tmp_path / "b", dry_run=True).run(log=lambda m: None)
    assert not (tmp_path / "a" / CACHE_DIR).exists() and not (tmp_path / "b").exists()


def test_an_old_or_damaged_cache_is_started_afresh(clean_shoot, tmp_path):
    out = tmp_path / "out"
    counted_run(clean_shoot, out)
    db = sqlite3.connect(out / CACHE_DIR / CACHE_FILE)
    with db:
        db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION - 1),))
    db.close()
    _, model, _ = counted_run(clean_shoot, out)
    assert model.crops == 2  # an older schema's contents are not trusted
    (out / CACHE_DIR / CACHE_FILE).write_bytes(b"not a database" * 100)
    for extra in ("-wal", "-shm"):
        (out / CACHE_DIR / (CACHE_FILE + extra)).unlink(missing_ok=True)
    res, model, _ = counted_run(clean_shoot, out)
    assert model.crops == 2 and res.ok


def test_partial_files_of_a_killed_run_are_removed_and_nothing_else(tmp_path):
    (tmp_path / "Final").mkdir()
    junk = tmp_path / "Final" / ".a.jpg.k3_x9abc.part"
    keep = [tmp_path / "Final" / "a.jpg", tmp_path / "Final" / ".hidden", tmp_path / "Final" / "x.part"]
    for p in [junk, *keep]:
        p.write_bytes(b"x")
    assert clean_partial_files(tmp_path) == [junk]
    assert all(p.exists() for p in keep)


# --- an interrupted run ---------------------------------------------------------------------------
#: Runs the CLI and SIGKILLs itself in the middle of its Nth output write: the temporary file is
#: half-written and never renamed, as when the power goes or Ctrl-C lands mid-write.
KILLER = """
import os, signal, sys, tempfile
from clairvoyance import publish
from clairvoyance.cli import main
die_at, writes, real = int(sys.argv[1]), [0], publish._atomic_write
def dying(dst, write):
    writes[0] += 1
    if writes[0] == die_at:
        dst.parent.mkdir(parents=True, exist_ok=True)
        fd, _ = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".part", dir=dst.parent)
        os.write(fd, b"half a file")
        os.kill(os.getpid(), signal.SIGKILL)
    return real(dst, write)
publish._atomic_write = dying
sys.argv = ["clairvoyance", *sys.argv[2:]]
main()
"""


def test_a_killed_run_resumes_with_no_duplicate_or_half_written_output(shoot, tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    # writes in order: astronaut copy and sidecar, blurred sidecar, coffee copy (a sharp scene) and sidecar,
    # dark's corrected copy, dark's "before" face crop (killed half-way through this one), ...
    p = subprocess.run([sys.executable, "-c", KILLER, "7", "run", str(shoot), "-o", str(out), "--model", "classical",
                        "--xmp", "-q"], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == -9, p.stderr
    assert [p.name for p in out.rglob("*.part")] and not (out / "report.json").exists()  # really killed mid-write
    assert (out / "Final/generated/dark_corrected-lighting.jpg").is_file()  # finished, but not yet recorded
    res, model, loaded = counted_run(shoot, out, xmp="adobe")
    assert sorted(loaded) == ["broken.jpg", "dark.jpg", "hopper.jpg"]  # finished photos are not redone
    assert not list(out.rglob("*.part")) and not list(shoot.glob(".*.part"))
    clean = Clairvoyance(model="classical", input_dir=shoot, output_dir=tmp_path / "clean", cache=False).run(log=lambda m: None)
    assert [r.as_dict() for r in res.images] == [r.as_dict() for r in clean.images]
    assert {p for p in listing(out) if not p.startswith(CACHE_DIR)} == {p for p in listing(tmp_path / "clean")}
    assert not any("-1." in p for p in listing(out))  # no duplicate copy of a photo written before the kill
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert {i["file"]: i["status"] for i in report["images"]} == EXPECTED_SHOOT


# --- a rerun that changes a verdict -----------------------------------------------------------------
#: Stricter than any face here: every photo is rejected (lighting must be perfect, no correction).
STRICT = dict(tolerances=(0.5, 0.5, 0.999), correct=False)


def test_a_photo_no_longer_selected_leaves_final_and_nothing_else_is_removed(clean_shoot, tmp_path):
    """OUTPUT is the input folder (the default): only what Clairvoyance wrote in Final/ may go."""
    originals = tree_hashes(clean_shoot)
    (clean_shoot / "Final").mkdir()
    (clean_shoot / "Final" / "notes.txt").write_text("the client's choices")
    first, _, _ = counted_run(clean_shoot, None)
    assert statuses(first) == {"astronaut.jpg": "selected", "sub/hopper.jpg": "selected"}
    second, _, _ = counted_run(clean_shoot, None, **STRICT)
    assert statuses(second) == {"astronaut.jpg": "rejected", "sub/hopper.jpg": "rejected"}
    assert second.pruned == ["Final/astronaut.jpg", "Final/sub/hopper.jpg"]
    assert listing(clean_shoot / "Final") == {"notes.txt"}
    assert json.loads((clean_shoot / "report.json").read_text("utf-8"))["pruned"] == second.pruned
    assert {k: v for k, v in tree_hashes(clean_shoot).items() if k in originals} == originals


def test_a_corrected_photo_now_selected_loses_its_corrected_file_and_face_crops(shoot, tmp_path):
    out = tmp_path / "out"
    first, _, _ = counted_run(shoot, out)
    dark = next(r for r in first.images if r.file == "dark.jpg")
    assert dark.status == "corrected" and len(dark.outputs) == 3  # the photo, its face before and after
    second, _, _ = counted_run(shoot, out, tolerances=(0.5, 0.5, 0.0))  # lighting no longer judged
    assert statuses(second)["dark.jpg"] == "selected"
    assert second.pruned == sorted(dark.outputs)
    assert not (out / "Final" / "generated").exists()  # the folders it emptied go too
    assert (out / "Final" / "dark.jpg").read_bytes() == (shoot / "dark.jpg").read_bytes()


def test_outputs_a_user_put_there_or_changed_since_are_never_removed(clean_shoot, tmp_path):
    out = tmp_path / "out"
    (out / "Final" / "sub").mkdir(parents=True)
    shutil.copy(clean_shoot / "sub" / "hopper.jpg", out / "Final" / "sub" / "hopper.jpg")  # the user's own copy
    counted_run(clean_shoot, out)  # finds the same bytes there: reused, not written
    with open(out / "Final" / "astronaut.jpg", "ab") as f:  # written by the run, edited since
        f.write(b"retouched")
    lines: list[str] = []
    res = Clairvoyance(model="classical", input_dir=clean_shoot, output_dir=out, **STRICT).run(log=lines.append)
    assert res.pruned == []
    assert listing(out / "Final") == {"astronaut.jpg", "sub", "sub/hopper.jpg"}
    assert "prune: kept Final/astronaut.jpg: changed since Clairvoyance wrote it" in lines


def test_dry_run_says_what_would_be_removed_and_removes_nothing(clean_shoot, tmp_path):
    out = tmp_path / "out"
    counted_run(clean_shoot, out)
    before = tree_hashes(out / "Final")
    lines: list[str] = []
    res = Clairvoyance(model="classical", input_dir=clean_shoot, output_dir=out, dry_run=True, **STRICT).run(
        log=lines.append)
    assert res.pruned == ["Final/astronaut.jpg", "Final/sub/hopper.jpg"] and tree_hashes(out / "Final") == before
    assert "prune: Final/astronaut.jpg would be removed (astronaut.jpg is now rejected)" in lines


def test_the_summary_names_the_outputs_a_rerun_removed(cli, clean_shoot, tmp_path):
    out = tmp_path / "out"
    cli("run", clean_shoot, "-o", out, *CLASSICAL)
    r = cli("run", clean_shoot, "-o", out, *CLASSICAL, "--tolerances", "0.5", "0.5", "0.999", "--no-correct")
    assert ("removed 2 outputs of earlier runs whose verdict changed: Final/astronaut.jpg, Final/sub/hopper.jpg"
            in r.stderr)
