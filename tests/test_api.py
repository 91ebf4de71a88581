"""The Python API: Clairvoyance(...).identify / classify / correct / run, and Tolerances."""
from __future__ import annotations

import numpy as np
import pytest

from clairvoyance import AXES, Box, Clairvoyance, Scores, Tolerances, UnknownModelError, degrade
from clairvoyance.images import read_photo

from conftest import EXPECTED_SHOOT, write_jpeg


@pytest.fixture(scope="module")
def cv() -> Clairvoyance:
    return Clairvoyance(model="classical")


# --- Tolerances -------------------------------------------------------------------------------------------
def test_tolerances_default_to_the_edge_of_acceptable():
    assert Tolerances().as_dict() == {"focus": 0.5, "noise": 0.5, "lighting": 0.5}


@pytest.mark.parametrize("bad", [(-0.1, 0.5, 0.5), (0.5, 1.01, 0.5), (0.5, 0.5, 2)])
def test_tolerances_outside_zero_one_are_refused(bad):
    with pytest.raises(ValueError, match="must be in \\[0, 1\\]"):
        Tolerances(*bad)


def test_tolerances_bounds_are_allowed():
    assert Tolerances(0, 1, 0.5).as_dict() == {"focus": 0.0, "noise": 1.0, "lighting": 0.5}


def test_tolerances_coerce_tuples_and_dicts():
    assert Tolerances.coerce((0.1, 0.2, 0.3)) == Tolerances(0.1, 0.2, 0.3)
    assert Tolerances.coerce({"noise": 0.7}) == Tolerances(noise=0.7)
    assert Tolerances.coerce(None) == Tolerances()


def test_a_score_equal_to_the_tolerance_passes_per_axis():
    tol = Tolerances(0.5, 0.6, 0.7, rule="per-axis")
    assert tol.failed(Scores(0.5, 0.6, 0.7)) == []
    assert tol.failed(Scores(0.49, 0.6, 0.69)) == ["focus", "lighting"]


def test_under_the_budget_one_axis_may_use_the_whole_allowance_or_several_share_it():
    tol = Tolerances(0.5, 0.6, 0.7)
    assert tol.rule == "budget"
    for a, t in tol.as_dict().items():  # at the tolerance on one axis, perfect elsewhere: passes
        assert tol.failed(Scores(**{**{x: 1.0 for x in AXES}, a: t})) == []
    assert tol.failed(Scores(0.8, 0.9, 0.9)) == []  # shares 0.4, 0.25, 0.33: 0.32 + 0.18 + 0.25
    assert Tolerances().failed(Scores(0.7, 0.7, 1.0)) == ["focus"]  # 0.6 and 0.6: two mild defects fail...
    assert Tolerances(rule="per-axis").failed(Scores(0.7, 0.7, 1.0)) == []  # ...that each alone would not
    # failing axes: the fewest, largest loss first, without which the rest fit (what to correct)
    assert Tolerances().failed(Scores(0.72, 0.84, 0.81)) == ["focus"]
    assert Tolerances().failed(Scores(0.82, 0.84, 0.81)) == []  # small shares count less than their sum
    assert Tolerances().failed(Scores(0.49, 0.6, 0.69)) == ["focus", "noise"]
    assert Tolerances().budget_used(Scores(0.75, 1.0, 0.9)) == pytest.approx((0.5**1.25 + 0.2**1.25) ** 0.8)
    assert Tolerances().budget_used(Scores(0.5, 1.0, 1.0)) == pytest.approx(1.0)


def test_a_tolerance_of_zero_turns_an_axis_off_and_one_asks_for_perfection():
    assert Tolerances(0.5, 0.0, 0.5).failed(Scores(1.0, 0.0, 1.0)) == []
    assert Tolerances(1.0, 0.5, 0.5).failed(Scores(0.999, 1.0, 1.0)) == ["focus"]
    assert Tolerances(1.0, 0.5, 0.5).failed(Scores(1.0, 0.6, 1.0)) == []


def test_the_vectorised_verdict_agrees_with_the_failing_axes_and_the_reason_names_them():
    from clairvoyance import verdict
    from clairvoyance.pipeline import explain
    from clairvoyance.types import FaceResult

    rng = np.random.default_rng(0)
    scores, tols = rng.uniform(0, 1, (500, 3)), rng.choice([0.0, 0.3, 0.5, 0.8, 1.0], (500, 3))
    for rule in verdict.RULES:
        ok = verdict.passes(scores, tols[0], rule)
        assert list(ok) == [not verdict.failed_axes(s, tols[0], rule) for s in scores]
        assert all(verdict.passes(s, t, rule) == (not verdict.failed_axes(s, t, rule)) for s, t in zip(scores, tols))
    tol = Tolerances()
    on_the_sum, below = Scores(0.72, 0.84, 0.81), Scores(0.3, 0.9, 1.0)
    faces = [FaceResult(Box(0, 0, 9, 9), s, tuple(tol.failed(s))) for s in (on_the_sum, below)]
    assert explain(faces, [0, 1], tol) == ("focus 0.72 + noise 0.84 + lighting 0.81 use 1.02 of the allowance on face 1; "
                                           "focus 0.30 < 0.50 on face 2")


def test_a_second_round_corrects_what_the_first_pushed_over(tmp_path, dark_astronaut):
    """A face 3 stops under fails lighting only; brightening it raises its capture's grain, which
    under the budget rule keeps it failing, so the run corrects noise too (default model, real pixels)."""
    write_jpeg(tmp_path / "in" / "dark.jpg", dark_astronaut)
    [dark] = Clairvoyance(input_dir=tmp_path / "in", output_dir=tmp_path / "out", dry_run=True).run(
        log=lambda m: None).images
    assert dark.faces[0].failed == ("lighting",)
    assert dark.status == "corrected", dark.reason
    assert dark.outputs[0].endswith("dark_corrected-noise-lighting.jpg")
    assert "noise" in dark.reason and "lighting" in dark.reason


def test_an_unknown_verdict_rule_is_refused():
    with pytest.raises(ValueError, match="verdict rule"):
        Tolerances(rule="average")
    assert Tolerances.coerce({"noise": 0.7, "rule": "per-axis"}) == Tolerances(noise=0.7, rule="per-axis")


def test_clairvoyance_refuses_bad_tolerances_policy_model_and_detector():
    with pytest.raises(ValueError):
        Clairvoyance(model="classical", tolerances=(0.5, 0.5, 1.5))
    with pytest.raises(ValueError, match="policy"):
        Clairvoyance(model="classical", policy="most")
    with pytest.raises(UnknownModelError, match="classical"):
        Clairvoyance(model="no-such-model")
    with pytest.raises(UnknownModelError, match="yunet"):
        Clairvoyance(model="classical", detector="no-such-detector")


# --- identify ------------------------------------------------------------------------------------------------
def test_identify_finds_the_face_with_a_box_in_original_pixels_and_a_256_crop(cv, good_jpeg):
    faces = cv.identify(good_jpeg)
    assert len(faces) == 1
    b = faces[0].box
    assert isinstance(b, Box)
    assert 150 < b.x + b.w / 2 < 300 and 60 < b.y + b.h / 2 < 180  # the astronaut's face, not the shuttle
    assert 60 < b.w < 140 and 60 < b.h < 160
    assert faces[0].crop.shape == (256, 256, 3) and faces[0].crop.dtype == np.uint8
    assert not faces[0].whole_image


def test_identify_accepts_a_decoded_photo_as_well_as_a_path(cv, good_jpeg):
    assert [f.box for f in cv.identify(read_photo(good_jpeg))] == [f.box for f in cv.identify(str(good_jpeg))]


def test_identify_returns_faces_largest_first(cv, tmp_path, two_people):
    faces = cv.identify(write_jpeg(tmp_path / "pair.jpg", two_people))
    assert len(faces) == 2
    assert faces[0].box.area > faces[1].box.area
    assert faces[0].box.x > 512 > faces[1].box.x  # Grace Hopper (right) has the larger face


def test_identify_finds_nothing_in_a_photo_without_people(cv, tmp_path, coffee):
    assert cv.identify(write_jpeg(tmp_path / "coffee.jpg", coffee)) == []


# --- classify --------------------------------------------------------------------------------------------------
def test_classify_scores_every_axis_in_unit_range(cv, good_jpeg):
    [s] = cv.classify(cv.identify(good_jpeg))
    assert all(0.0 <= v <= 1.0 for v in s.as_dict().values())


def test_classify_passes_a_sharp_face_and_fails_a_blurred_one(cv, tmp_path, astronaut):
    sharp = cv.classify(cv.identify(write_jpeg(tmp_path / "a.jpg", astronaut)))[0]
    blurred = cv.classify(cv.identify(write_jpeg(tmp_path / "b.jpg", degrade.defocus_blur(astronaut, 8))))[0]
    assert Tolerances().failed(sharp) == []
    assert "focus" in Tolerances().failed(blurred)
    assert blurred.focus < sharp.focus


def test_classify_of_no_faces_is_empty(cv):
    assert cv.classify([]) == []


# --- correct -----------------------------------------------------------------------------------------------------
def test_correct_lighting_brings_an_underexposed_face_back(cv, tmp_path, astronaut):
    dark = degrade.exposure(astronaut, -2.0)
    faces = cv.identify(write_jpeg(tmp_path / "dark.jpg", dark))
    before = cv.classify(faces)[0]
    fixed = cv.correct(dark, faces, [["lighting"]])
    assert fixed.shape == dark.shape and fixed.dtype == np.uint8
    after = cv.classify(cv.identify(write_jpeg(tmp_path / "fixed.jpg", fixed)))[0]
    assert before.lighting < 0.5 <= after.lighting


def test_correct_noise_changes_only_the_region_around_the_face(cv, tmp_path, astronaut):
    noisy = degrade.sensor_noise(astronaut, 28, np.random.default_rng(0))
    faces = cv.identify(write_jpeg(tmp_path / "noisy.jpg", noisy))
    fixed = cv.correct(noisy, faces, [["noise"]])
    assert not np.array_equal(fixed, noisy)
    assert np.array_equal(fixed[:, 420:], noisy[:, 420:])  # far right of the face: untouched
    assert np.array_equal(fixed[400:], noisy[400:])  # well below the face: untouched


def test_correct_with_nothing_failed_returns_the_image_unchanged(cv, good_jpeg, astronaut):
    faces = cv.identify(good_jpeg)
    rgb = read_photo(good_jpeg).rgb
    assert np.array_equal(cv.correct(rgb, faces, [[]]), rgb)


# --- run -----------------------------------------------------------------------------------------------------------
def test_run_gives_each_photo_its_outcome(shoot):
    res = Clairvoyance(model="classical", input_dir=shoot, output_dir=shoot.parent / "out").run(log=lambda m: None)
    assert {r.file: r.status for r in res.images} == EXPECTED_SHOOT
    assert not res.ok  # the truncated file failed
    assert res.count("selected") == 2
    assert (res.output_dir / "report.json").is_file()


def test_run_without_output_dir_writes_into_the_input_folder(clean_shoot):
    res = Clairvoyance(model="classical", input_dir=clean_shoot).run(log=lambda m: None)
    assert res.ok and res.output_dir == clean_shoot
    assert (clean_shoot / "Final" / "astronaut.jpg").is_file()
    assert (clean_shoot / "report.json").is_file()


def test_run_scores_a_photo_without_faces_as_a_whole_and_flags_it(tmp_path, coffee):
    write_jpeg(tmp_path / "in" / "coffee.jpg", coffee)
    res = Clairvoyance(model="classical", input_dir=tmp_path / "in", dry_run=True).run(log=lambda m: None)
    [r] = res.images
    assert r.status == "no_face"
    assert r.faces[0].whole_image and r.faces[0].box == Box(0, 0, coffee.shape[1], coffee.shape[0])
    assert set(r.faces[0].scores.as_dict()) == set(AXES)


def test_a_scene_is_cut_into_areas_that_cover_its_view():
    from clairvoyance.detection import scene_tiles

    img = np.arange(600 * 400 * 3, dtype=np.uint32).astype(np.uint8).reshape(400, 600, 3)
    tiles = scene_tiles(img)
    assert tiles.shape == (2 * 3, 256, 256, 3)  # as few as cover it, no resizing below the view's side
    assert (tiles[0] == img[:256, :256]).all() and (tiles[-1] == img[-256:, -256:]).all()
    big = scene_tiles(np.zeros((2000, 3000, 3), np.uint8))  # seen at SCENE_SIDE px on its long side
    assert big.shape == (3 * 4, 256, 256, 3)
    assert scene_tiles(np.zeros((200, 900, 3), np.uint8)) is None  # smaller than one area
    assert scene_tiles(np.zeros((400, 2000, 3), np.uint8)).shape == (5, 256, 256, 3)  # a panorama: 256 x 1280


def test_a_whole_image_is_judged_on_its_best_quarter_of_areas():
    from clairvoyance.scoring.base import best_share

    rows = np.array([[0.9, 0.1, 0.5], [0.1, 0.2, 0.6], [0.2, 0.9, 0.7], [0.3, 0.3, 0.8],
                     [0.4, 0.4, 0.1], [0.0, 0.0, 0.0], [0.1, 0.1, 0.1], [0.8, 0.5, 0.2]])
    assert np.allclose(best_share(rows), [0.85, 0.7, 0.75])  # per axis, the mean of the best 2 of 8
    assert np.allclose(best_share(rows[:4]), [0.9, 0.9, 0.8])  # of 4: the best one
    assert np.allclose(best_share(rows[:1]), rows[0])


def test_the_shipped_model_passes_a_sharp_scene_and_fails_it_blurred_or_grainy(tmp_path, coffee):
    """Judged on one reduced square, this sharp photo scored focus 0.71; on its areas it passes,
    and the same photo blurred by 3 px or with grain of 20 levels fails."""
    rng = np.random.default_rng(0)
    for name, img in [("sharp", coffee), ("blurred", degrade.gaussian_blur(coffee, 3.0)),
                      ("grainy", degrade.sensor_noise(coffee, 20.0, rng, chroma=0.3, signal_dependence=0.5))]:
        write_jpeg(tmp_path / "in" / f"{name}.jpg", img, quality=95)
    res = Clairvoyance(input_dir=tmp_path / "in", correct=False).run(log=lambda m: None)
    got = {r.file: r for r in res.images}
    assert all(r.status == "no_face" and r.faces[0].whole_image for r in res.images)
    assert got["sharp.jpg"].outputs and not got["sharp.jpg"].faces[0].failed
    assert got["blurred.jpg"].faces[0].failed == ("focus",) and not got["blurred.jpg"].outputs
    assert "noise" in got["grainy.jpg"].faces[0].failed and not got["grainy.jpg"].outputs
    assert "on the whole image" in got["grainy.jpg"].reason


def test_check_scenes_judges_only_photos_without_a_judged_face_and_fails_them_blurred(tmp_path, coffee, astronaut):
    import subprocess
    import sys
    from pathlib import Path

    write_jpeg(tmp_path / "coffee.jpg", coffee, quality=95)
    write_jpeg(tmp_path / "astronaut.jpg", astronaut)  # a person: not a scene
    script = Path(__file__).resolve().parents[1] / "scripts" / "check_scenes.py"
    done = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert "1 photos" in lines[0]
    rows = {line[:12].strip(): line[12:].split() for line in lines[2:]}
    assert list(rows)[:4] == ["clean", "blur 1 px", "blur 2 px", "blur 3 px"] and len(rows) == 10
    tiles_pass = {k: v[8] for k, v in rows.items()}  # square: focus noise lighting pass (per-axis); tiles: the same
    assert tiles_pass["clean"] == "100%" and tiles_pass["blur 3 px"] == tiles_pass["grain 20"] == "0%"


def test_run_needs_an_existing_input_folder(tmp_path):
    from clairvoyance import ClairvoyanceError

    with pytest.raises(ClairvoyanceError):
        Clairvoyance(model="classical", input_dir=tmp_path / "missing").run(log=lambda m: None)
    with pytest.raises(ClairvoyanceError):
        Clairvoyance(model="classical").run(log=lambda m: None)


def test_run_with_several_workers_decides_the_same(shoot, tmp_path):
    one = Clairvoyance(model="classical", input_dir=shoot, dry_run=True).run(log=lambda m: None)
    two = Clairvoyance(model="classical", input_dir=shoot, dry_run=True, workers=2).run(log=lambda m: None)
    assert one.report["images"] == two.report["images"]


@pytest.mark.parametrize("policy, status", [("all", "rejected"), ("largest", "selected")])
def test_group_policy_all_judges_every_face_largest_only_the_main_subject(tmp_path, two_people_one_blurred,
                                                                           policy, status):
    write_jpeg(tmp_path / "in" / "pair.jpg", two_people_one_blurred)
    res = Clairvoyance(model="classical", input_dir=tmp_path / "in", policy=policy, dry_run=True).run(log=lambda m: None)
    [r] = res.images
    assert [f.failed for f in r.faces] == [(), ("focus",)]  # Hopper (largest) sharp, the astronaut blurred
    assert r.status == status


def _far_away(hopper, astronaut, scale: float = 0.4) -> np.ndarray:
    """Grace Hopper in front, and the astronaut shrunk to a face of about 40 px (a crop of about
    63 px) beside her: a person in the background of a portrait."""
    import cv2

    small = cv2.resize(astronaut, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.full((hopper.shape[0], hopper.shape[1] + small.shape[1], 3), 90, np.uint8)
    canvas[:, :hopper.shape[1]] = hopper
    canvas[:small.shape[0], hopper.shape[1]:] = small
    return canvas


def test_faces_too_small_to_judge_are_left_out_unless_min_face_is_0(tmp_path, hopper, astronaut):
    """The learned model reads a sharp 63 px face as blurred (scripts/check_small_faces.py): a
    photographer culls by the people the photo is of, so the pipeline leaves such faces out."""
    from clairvoyance import detection

    path = write_jpeg(tmp_path / "in" / "portrait.jpg", _far_away(hopper, astronaut))
    every = Clairvoyance(model="classical", min_face=0).identify(path)
    assert len(every) == 2 and every[1].native_size < detection.MIN_FACE_SIDE <= every[0].native_size
    [judged] = Clairvoyance(model="classical").identify(path)
    assert judged.box == every[0].box and judged.native_size == every[0].native_size
    res = Clairvoyance(input_dir=tmp_path / "in", dry_run=True).run(log=lambda m: None)  # the default model
    [r] = res.images
    assert r.status == "selected" and len(r.faces) == 1 and res.report["min_face"] == detection.MIN_FACE_SIDE
    res = Clairvoyance(input_dir=tmp_path / "in", dry_run=True, correct=False, min_face=0).run(log=lambda m: None)
    [r] = res.images
    assert r.status == "rejected" and r.faces[1].failed and "focus" in r.faces[1].failed  # sharp, but small


def test_a_photo_whose_faces_are_all_too_small_is_judged_whole(tmp_path, astronaut):
    import cv2

    small = cv2.resize(astronaut, None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA)
    canvas = np.full((400, 400, 3), 90, np.uint8)
    canvas[100:100 + small.shape[0], 100:100 + small.shape[1]] = small
    write_jpeg(tmp_path / "in" / "far.jpg", canvas)
    res = Clairvoyance(model="classical", input_dir=tmp_path / "in", dry_run=True).run(log=lambda m: None)
    [r] = res.images
    assert r.status == "no_face" and r.faces[0].whole_image


def test_a_face_too_degraded_to_correct_is_rejected_not_corrected(tmp_path):
    """Beyond the correctors' range a generator would only invent texture (and could fool the IQA)."""
    import numpy as np
    from PIL import Image
    from skimage import data

    from clairvoyance import degrade
    from clairvoyance.pipeline import MIN_CORRECTABLE, Clairvoyance

    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(degrade.defocus_blur(data.astronaut(), 10.0)).save(src / "very_blurred.jpg", quality=95)
    res = Clairvoyance(model="classical", input_dir=src, output_dir=tmp_path / "out").run()
    (img,) = res.images
    assert img.faces[0].scores.focus < MIN_CORRECTABLE["focus"]
    assert img.status == "rejected" and "too degraded to correct" in img.reason
    assert not (tmp_path / "out" / "Final" / "generated").exists()
