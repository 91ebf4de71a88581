"""The output layout: Final/ holds byte-identical copies (subfolders kept), Final/generated/ the corrected
photos; the default OUTPUT is the input folder; reruns are idempotent and never overwrite a different
file; originals are never written.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from clairvoyance import Clairvoyance

from conftest import EXPECTED_SHOOT, listing, tree_hashes, write_jpeg


def run(input_dir: Path, output_dir: Path | None = None, **kw):
    return Clairvoyance(model="classical", input_dir=input_dir, output_dir=output_dir, **kw).run(log=lambda m: None)


def test_selected_photos_are_byte_identical_copies_with_subfolders_kept(shoot, tmp_path):
    out = tmp_path / "out"
    res = run(shoot, out)
    by = {r.file: r for r in res.images}
    assert by["astronaut.jpg"].outputs == ("Final/astronaut.jpg",)
    assert by["sub/hopper.jpg"].outputs == ("Final/sub/hopper.jpg",)
    for rel in ("astronaut.jpg", "sub/hopper.jpg"):
        assert (out / "Final" / rel).read_bytes() == (shoot / rel).read_bytes()


def test_corrected_photos_go_to_final_generated_named_after_the_original_and_axes(shoot, tmp_path):
    out = tmp_path / "out"
    res = run(shoot, out)
    [dark] = [r for r in res.images if r.file == "dark.jpg"]
    assert dark.status == "corrected"
    assert dark.outputs[0] == "Final/generated/dark_corrected-lighting.jpg"  # the photo first, then any extras
    assert all(o.startswith("Final/generated/") for o in dark.outputs)
    with Image.open(out / dark.outputs[0]) as im, Image.open(shoot / "dark.jpg") as orig:
        assert im.size == orig.size
        fixed, before = np.asarray(im.convert("RGB"), float), np.asarray(orig.convert("RGB"), float)
    assert fixed.mean() > before.mean() + 20  # visibly brighter


def test_corrected_photos_in_subfolders_keep_them_under_generated(tmp_path, astronaut):
    from clairvoyance import degrade

    write_jpeg(tmp_path / "in" / "day 2" / "dark.jpg", degrade.exposure(astronaut, -2.0))
    res = run(tmp_path / "in", tmp_path / "out")
    assert res.images[0].outputs[0] == "Final/generated/day 2/dark_corrected-lighting.jpg"
    assert (tmp_path / "out" / res.images[0].outputs[0]).is_file()


def test_nothing_but_final_and_the_reports_is_written(shoot, tmp_path):
    out = tmp_path / "out"
    run(shoot, out)
    assert {p.name for p in out.iterdir()} == {"Final", "report.json", "report.csv", "report.html", ".clairvoyance"}
    assert not list(out.rglob("*.part"))  # no temporary files left behind


def test_the_default_output_is_the_input_folder(shoot):
    res = run(shoot)
    assert res.output_dir == shoot
    assert (shoot / "Final" / "astronaut.jpg").is_file()
    assert (shoot / "report.json").is_file() and (shoot / "report.csv").is_file()


def test_the_scan_never_descends_into_final(shoot):
    run(shoot)
    second = run(shoot)  # Final/ now holds copies of the photos: they must not be taken as new input
    assert sorted(r.file for r in second.images) == sorted(EXPECTED_SHOOT)
    assert not any("report" in s for s in second.skipped)  # nor are our own reports listed as skipped


def test_a_rerun_is_idempotent(shoot):
    first = run(shoot)
    after_first = tree_hashes(shoot)
    second = run(shoot)
    assert tree_hashes(shoot) == after_first  # no duplicates, nothing rewritten differently
    assert [r.outputs for r in second.images] == [r.outputs for r in first.images]
    assert [r.status for r in second.images] == [r.status for r in first.images]


def test_a_different_file_in_the_way_is_never_overwritten(shoot, tmp_path):
    out = tmp_path / "out"
    (out / "Final").mkdir(parents=True)
    (out / "Final" / "astronaut.jpg").write_bytes(b"a different photo with the same name")
    res = run(shoot, out)
    assert (out / "Final" / "astronaut.jpg").read_bytes() == b"a different photo with the same name"
    [a] = [r for r in res.images if r.file == "astronaut.jpg"]
    assert a.outputs == ("Final/astronaut-1.jpg",)
    assert (out / "Final" / "astronaut-1.jpg").read_bytes() == (shoot / "astronaut.jpg").read_bytes()
    # and a rerun reuses that copy rather than making astronaut-2.jpg
    again = run(shoot, out)
    assert [r.outputs for r in again.images if r.file == "astronaut.jpg"] == [("Final/astronaut-1.jpg",)]
    assert not (out / "Final" / "astronaut-2.jpg").exists()


def test_a_changed_original_gets_a_new_copy_beside_the_old_one(shoot, hopper):
    run(shoot)
    old_copy = (shoot / "Final" / "astronaut.jpg").read_bytes()
    write_jpeg(shoot / "astronaut.jpg", hopper)  # the photographer replaced the photo
    res = run(shoot)
    assert (shoot / "Final" / "astronaut.jpg").read_bytes() == old_copy
    [a] = [r for r in res.images if r.file == "astronaut.jpg"]
    assert a.outputs == ("Final/astronaut-1.jpg",)


def test_dry_run_writes_nothing(shoot):
    before = tree_hashes(shoot)
    res = run(shoot, dry_run=True)
    assert tree_hashes(shoot) == before
    assert res.report["images"] and all(r.status for r in res.images)


def test_keep_crops_writes_face_crops_beside_final(tmp_path, good_jpeg):
    out = tmp_path / "out"
    run(good_jpeg.parent, out, keep_crops=True)
    [crop] = (out / "crops").rglob("*.png")
    with Image.open(crop) as im:
        assert im.size == (256, 256)
    assert sorted(r.file for r in run(good_jpeg.parent, out).images) == ["astronaut.jpg"]  # crops/ not scanned


def test_originals_are_never_written(shoot):
    (shoot / "notes.txt").write_text("a non-image file")
    before = tree_hashes(shoot)
    run(shoot)  # OUTPUT = the input folder: the riskiest layout
    run(shoot, workers=2)
    after = tree_hashes(shoot)
    assert {k: v for k, v in after.items() if k in before} == before
    assert all(k.startswith(("Final/", ".clairvoyance/")) or k in ("report.json", "report.csv", "report.html")
               for k in set(after) - set(before))


def test_the_report_is_rewritten_on_each_run(shoot, tmp_path):
    out = tmp_path / "out"
    run(shoot, out)
    (shoot / "blurred.jpg").unlink()
    run(shoot, out)
    files = [i["file"] for i in json.loads((out / "report.json").read_text("utf-8"))["images"]]
    assert "blurred.jpg" not in files and len(files) == len(EXPECTED_SHOOT) - 1
    assert listing(out) >= {"Final", "report.json", "report.csv"}


def test_an_output_that_cannot_be_written_is_that_photos_error_and_the_run_finishes(clean_shoot, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "Final").write_text("a file where the Final folder should be")
    res = run(clean_shoot, out)
    assert [r.status for r in res.images] == ["error", "error"]
    assert all("cannot write" in r.error for r in res.images)
    assert (out / "report.json").is_file()


def test_outputs_get_ordinary_file_permissions(tmp_path):
    import os
    import stat

    from clairvoyance.publish import write_bytes, write_text

    write_text("{}", tmp_path / "report.json")
    write_bytes(b"x", tmp_path / "a.bin")
    umask = os.umask(0)
    os.umask(umask)
    for name in ("report.json", "a.bin"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~umask
