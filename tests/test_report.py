"""report.json (the contract) and report.csv (one row per face)."""
from __future__ import annotations

import csv
import json
import re

import pytest
from click.testing import CliRunner

from clairvoyance import AXES, verdict
from clairvoyance.cli import main
from clairvoyance.types import STATUSES

from conftest import CLASSICAL, EXPECTED_SHOOT, make_shoot


@pytest.fixture(scope="module")
def ran(tmp_path_factory, astronaut, hopper, coffee):
    """One classical run over the one-of-each-outcome shoot, with a non-image file beside the photos."""
    d = make_shoot(tmp_path_factory.mktemp("report") / "shoot", astronaut, hopper, coffee)
    (d / "notes.txt").write_text("not a photo")
    out = d.parent / "out"
    r = CliRunner().invoke(main, ["run", str(d), "-o", str(out), *CLASSICAL, "--tolerances", "0.5", "0.4", "0.6",
                                  "-q"], catch_exceptions=False)
    assert r.exit_code == 1
    report = json.loads((out / "report.json").read_text("utf-8"))
    with open(out / "report.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return out, report, rows


def test_report_top_level_fields(ran):
    _, report, _ = ran
    assert report["version"] == 1
    assert report["tolerances"] == {"focus": 0.5, "noise": 0.4, "lighting": 0.6}
    assert report["model"] == "classical@1"
    assert re.fullmatch(r"[\w.-]+@[\w.-]+", report["model"])  # name@version
    assert report["detector"] == "yunet" and report["policy"] == "all" and report["verdict"] == "budget"


def test_report_lists_every_photo_once_with_paths_relative_to_the_input(ran):
    _, report, _ = ran
    files = [i["file"] for i in report["images"]]
    assert sorted(files) == sorted(EXPECTED_SHOOT) and len(set(files)) == len(files)
    assert {i["file"]: i["status"] for i in report["images"]} == EXPECTED_SHOOT


def test_report_lists_skipped_files(ran):
    _, report, _ = ran
    assert report["skipped"] == ["notes.txt (not an image file)"]


def test_report_image_entries_follow_the_schema(ran):
    _, report, _ = ran
    for img in report["images"]:
        assert {"file", "status", "faces", "outputs", "error"} <= set(img)
        assert img["status"] in STATUSES
        assert isinstance(img["outputs"], list)
        assert (img["error"] is None) == (img["status"] != "error")
        for face in img["faces"]:
            assert len(face["box"]) == 4 and all(isinstance(v, int) for v in face["box"])
            assert set(face["scores"]) == set(AXES)
            assert all(0.0 <= v <= 1.0 for v in face["scores"].values())
            assert set(face["failed"]) <= set(AXES)


def test_failed_axes_follow_the_budget_rule(ran):
    _, report, _ = ran
    tol = report["tolerances"]
    for img in report["images"]:
        for face in img["faces"]:
            s, t = face["scores"], tol
            used = {a: (max(0.0, 1 - s[a]) / (1 - t[a])) ** verdict.POWER for a in AXES}
            below = [a for a in AXES if s[a] < t[a]]
            assert set(below) <= set(face["failed"])  # an axis below its tolerance always fails
            assert bool(face["failed"]) == (sum(used.values()) > 1 + 1e-9)
            rest = sum(v for a, v in used.items() if a not in face["failed"])
            assert rest <= 1 + 1e-9  # what is left once the failing axes are corrected fits


def test_every_output_listed_exists_and_sits_where_its_status_says(ran):
    out, report, _ = ran
    for img in report["images"]:
        for o in img["outputs"]:
            assert (out / o).is_file()
        if img["status"] == "selected":
            assert img["outputs"] == ["Final/" + img["file"]]
        elif img["status"] == "corrected":  # the corrected photo first, then any extras (e.g. face crops)
            assert img["outputs"][0].startswith("Final/generated/")
            assert all(o.startswith("Final/generated/") for o in img["outputs"])
        elif img["status"] in ("rejected", "error"):
            assert img["outputs"] == []


def test_an_error_has_a_message_and_no_faces(ran):
    _, report, _ = ran
    [broken] = [i for i in report["images"] if i["status"] == "error"]
    assert broken["faces"] == [] and "truncated" in broken["error"]


def test_a_photo_without_faces_is_flagged_whole_image(ran):
    _, report, _ = ran
    [coffee] = [i for i in report["images"] if i["file"] == "coffee.jpg"]
    assert coffee["status"] == "no_face"
    assert coffee["faces"][0]["whole_image"] is True and coffee["faces"][0]["box"] == [0, 0, 600, 400]


def test_a_decision_says_why(ran):
    _, report, _ = ran
    by = {i["file"]: i for i in report["images"]}
    assert "focus" in by["blurred.jpg"]["reason"] and "lighting" in by["dark.jpg"]["reason"]


def test_csv_has_one_row_per_face_and_one_per_faceless_photo(ran):
    _, report, rows = ran
    assert list(rows[0]) == ["file", "status", "face", "x", "y", "w", "h", *AXES, "failed", "outputs", "error",
                             "reason"]
    assert len(rows) == sum(max(1, len(i["faces"])) for i in report["images"])


def test_csv_agrees_with_the_json(ran):
    _, report, rows = ran
    by = {i["file"]: i for i in report["images"]}
    for row in rows:
        img = by[row["file"]]
        assert row["status"] == img["status"]
        assert row["outputs"] == ";".join(img["outputs"])
        assert row["error"] == (img["error"] or "")
        if row["face"]:
            face = img["faces"][int(row["face"]) - 1]
            assert [int(row[k]) for k in "xywh"] == face["box"]
            assert {a: float(row[a]) for a in AXES} == face["scores"]
            assert row["failed"] == ";".join(face["failed"])
