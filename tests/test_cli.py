"""The command line contract, driven end to end: every form of run / score / correct, --help everywhere,
exit codes 0 (all went well), 1 (some files failed), 2 (usage error), data on stdout and the rest on stderr.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import click
import numpy as np
import pytest
from PIL import Image

from clairvoyance import AXES, degrade

from conftest import CLASSICAL, EXPECTED_SHOOT, listing, write_jpeg
from photo_files import write_dng

REPO = Path(__file__).resolve().parents[1]
SHIPPED_MODEL = REPO / "clairvoyance" / "weights" / "iqa-seed.pt"


def statuses(out_dir: Path) -> dict[str, str]:
    return {r["file"]: r["status"] for r in json.loads((out_dir / "report.json").read_text("utf-8"))["images"]}


def run_module(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m clairvoyance.cli ARGS`` in a fresh process (the package found from this checkout)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.run([sys.executable, "-m", "clairvoyance.cli", *map(str, args)], capture_output=True,
                          text=True, encoding="utf-8", env=env, cwd=cwd, timeout=120)


# --- --help everywhere -----------------------------------------------------------------------------------
def _command_paths(group: click.Group, prefix=()) -> list[tuple[str, ...]]:
    out = [prefix]
    for name, cmd in group.commands.items():
        out += _command_paths(cmd, prefix + (name,)) if isinstance(cmd, click.Group) else [prefix + (name,)]
    return out


def _all_commands() -> list[tuple[str, ...]]:
    from clairvoyance.cli import main

    return _command_paths(main)


def test_the_contract_commands_exist():
    assert {("run",), ("score",), ("correct",)} <= set(_all_commands())


@pytest.mark.parametrize("command", _all_commands(), ids=lambda c: " ".join(c) or "clairvoyance")
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_works_everywhere(cli, command, flag):
    r = cli(*command, flag)
    assert r.exit_code == 0, r.output
    assert "Usage:" in r.stdout


def test_help_lists_the_contract_options(cli):
    text = cli("run", "--help").stdout
    for opt in ("-o, --output", "--tolerances", "--model", "--detector", "--policy", "--workers", "--dry-run", "--quiet"):
        assert opt in text
    assert "--json" in cli("score", "--help").stdout and "--no-detect" in cli("score", "--help").stdout
    assert "focus|noise|lighting|auto" in cli("correct", "--help").stdout


def test_help_and_version_from_a_fresh_process():
    r = run_module("--help")
    assert r.returncode == 0 and "run" in r.stdout and "score" in r.stdout and "correct" in r.stdout
    assert run_module("run", "--help").returncode == 0
    v = run_module("--version")
    assert v.returncode == 0 and "version" in v.stdout


# --- run -------------------------------------------------------------------------------------------------
def test_run_defaults_to_writing_into_the_input_folder(cli, clean_shoot):
    r = cli("run", clean_shoot, *CLASSICAL, "--quiet")
    assert r.exit_code == 0, r.output
    assert (clean_shoot / "Final" / "astronaut.jpg").is_file() and (clean_shoot / "report.json").is_file()


def test_run_with_an_output_folder_leaves_the_input_folder_alone(cli, clean_shoot, tmp_path):
    before = listing(clean_shoot)
    r = cli("run", clean_shoot, "-o", tmp_path / "out", *CLASSICAL, "--quiet")
    assert r.exit_code == 0, r.output
    assert listing(clean_shoot) == before
    assert statuses(tmp_path / "out") == {"astronaut.jpg": "selected", "sub/hopper.jpg": "selected"}


def test_run_long_output_option(cli, clean_shoot, tmp_path):
    assert cli("run", clean_shoot, "--output", tmp_path / "o2", *CLASSICAL, "-q").exit_code == 0
    assert (tmp_path / "o2" / "report.csv").is_file()


def test_run_exits_1_when_some_files_failed_and_still_finishes_the_rest(cli, shoot, tmp_path):
    r = cli("run", shoot, "-o", tmp_path / "out", *CLASSICAL)
    assert r.exit_code == 1
    assert statuses(tmp_path / "out") == EXPECTED_SHOOT
    assert "broken.jpg" in r.stderr and "truncated" in r.stderr


def test_run_prints_progress_and_summary_on_stderr_and_nothing_on_stdout(cli, clean_shoot, tmp_path):
    r = cli("run", clean_shoot, "-o", tmp_path / "out", *CLASSICAL)
    assert r.stdout == ""
    assert "2 photos" in r.stderr and "selected 2" in r.stderr
    assert str(tmp_path / "out" / "Final") in r.stderr  # says where the results are


def test_run_quiet_prints_nothing(cli, clean_shoot, tmp_path):
    r = cli("run", clean_shoot, "-o", tmp_path / "out", *CLASSICAL, "--quiet")
    assert r.exit_code == 0 and r.stdout == "" and r.stderr == ""


def test_run_dry_run_writes_nothing_and_prints_the_report(cli, shoot):
    before = listing(shoot)
    r = cli("run", shoot, *CLASSICAL, "--dry-run", "--quiet")
    assert r.exit_code == 1  # the truncated file still counts as a failure
    report = json.loads(r.stdout)
    assert {i["file"]: i["status"] for i in report["images"]} == EXPECTED_SHOOT
    assert listing(shoot) == before


def test_run_tolerances_are_the_minimum_scores(cli, shoot, tmp_path):
    r = cli("run", shoot, "-o", tmp_path / "lax", *CLASSICAL, "--tolerances", "0", "0", "0", "-q")
    assert r.exit_code == 1
    report = json.loads((tmp_path / "lax" / "report.json").read_text("utf-8"))
    assert report["tolerances"] == {"focus": 0.0, "noise": 0.0, "lighting": 0.0}
    # with nothing required, every readable photo with a face is selected as it is
    assert {i["file"]: i["status"] for i in report["images"] if i["status"] != "no_face"} == {
        **{k: "selected" for k, v in EXPECTED_SHOOT.items() if v not in ("error", "no_face")}, "broken.jpg": "error"}

    cli("run", shoot, "-o", tmp_path / "strict", *CLASSICAL, "--tolerances", "0.99", "0.99", "0.99", "-q")
    assert statuses(tmp_path / "strict")["astronaut.jpg"] != "selected"


def test_run_model_by_name_is_recorded_in_the_report(cli, clean_shoot, tmp_path):
    cli("run", clean_shoot, "-o", tmp_path / "out", "--model", "classical", "-q")
    assert json.loads((tmp_path / "out" / "report.json").read_text())["model"] == "classical@1"


@pytest.mark.skipif(not SHIPPED_MODEL.is_file(), reason="no shipped learned model")
def test_run_model_by_path(cli, clean_shoot, tmp_path):
    from clairvoyance.scoring import get_model

    r = cli("run", clean_shoot, "-o", tmp_path / "out", "--model", SHIPPED_MODEL, "-q")
    assert r.exit_code == 0, r.output
    model = json.loads((tmp_path / "out" / "report.json").read_text())["model"]
    assert model == get_model(str(SHIPPED_MODEL)).label and model != "classical@1"


def test_run_detector_option(cli, clean_shoot, tmp_path):
    r = cli("run", clean_shoot, "-o", tmp_path / "out", *CLASSICAL, "--detector", "haar", "-q")
    assert r.exit_code == 0, r.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["detector"] == "haar"
    assert all(len(i["faces"]) >= 1 and "whole_image" not in i["faces"][0] for i in report["images"])


@pytest.mark.parametrize("policy, status", [("all", "rejected"), ("largest", "selected")])
def test_run_policy_option(cli, tmp_path, two_people_one_blurred, policy, status):
    write_jpeg(tmp_path / "in" / "pair.jpg", two_people_one_blurred)
    r = cli("run", tmp_path / "in", "-o", tmp_path / "out", *CLASSICAL, "--policy", policy, "-q")
    assert r.exit_code == 0, r.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["policy"] == policy
    assert report["images"][0]["status"] == status


def test_run_workers_option_gives_the_same_report(cli, shoot, tmp_path):
    cli("run", shoot, "-o", tmp_path / "one", *CLASSICAL, "-q")
    cli("run", shoot, "-o", tmp_path / "two", *CLASSICAL, "--workers", "2", "-q")
    one = json.loads((tmp_path / "one" / "report.json").read_text())
    two = json.loads((tmp_path / "two" / "report.json").read_text())
    assert one["images"] == two["images"]
    assert listing(tmp_path / "one") == listing(tmp_path / "two")


@pytest.mark.parametrize("args", [
    ["--tolerances", "1.5", "0.5", "0.5"],
    ["--tolerances", "0.5", "-0.1", "0.5"],
    ["--tolerances", "0.5", "0.5", "x"],
    ["--tolerances", "0.5", "0.5"],
    ["--model", "no-such-model"],
    ["--model", "missing/model.pt"],
    ["--detector", "no-such-detector"],
    ["--policy", "most"],
    ["--workers", "0"],
    ["--bogus-option"],
], ids=lambda a: " ".join(a))
def test_run_usage_errors_exit_2_and_write_nothing(cli, clean_shoot, args):
    before = listing(clean_shoot)
    r = cli("run", clean_shoot, *CLASSICAL, *args) if "--model" not in args else cli("run", clean_shoot, *args)
    assert r.exit_code == 2, r.output
    assert "Error" in r.stderr and r.stdout == ""
    assert listing(clean_shoot) == before


def test_run_unknown_model_lists_the_valid_ones(cli, clean_shoot):
    r = cli("run", clean_shoot, "--model", "no-such-model")
    assert r.exit_code == 2 and "classical" in r.stderr


def test_run_a_model_file_that_cannot_be_loaded_is_a_usage_error(cli, clean_shoot, tmp_path):
    torch = pytest.importorskip("torch")
    bad = tmp_path / "bad.pt"
    torch.save({"weights": "none here"}, bad)  # a torch file, but not a Clairvoyance model
    r = cli("run", clean_shoot, "--model", bad)
    assert r.exit_code == 2 and "bad.pt" in r.stderr


def test_run_missing_or_absent_input_folder_exits_2(cli, tmp_path, good_jpeg):
    assert cli("run", tmp_path / "missing", *CLASSICAL).exit_code == 2
    assert cli("run").exit_code == 2
    assert cli("run", good_jpeg, *CLASSICAL).exit_code == 2  # a file, not a folder


def test_run_exits_1_with_a_message_when_the_report_cannot_be_written(cli, clean_shoot, tmp_path):
    (tmp_path / "out" / "report.json").mkdir(parents=True)  # a folder in the report's way
    r = cli("run", clean_shoot, "-o", tmp_path / "out", *CLASSICAL, "-q")
    assert r.exit_code == 1 and "error:" in r.stderr and "report.json" in r.stderr


def test_run_from_a_fresh_process_keeps_stdout_for_data(shoot, tmp_path):
    r = run_module("run", shoot, "-o", tmp_path / "out", *CLASSICAL)
    assert r.returncode == 1, r.stderr
    assert r.stdout == ""
    assert "results in" in r.stderr and "error" in r.stderr
    bad = run_module("run", shoot, *CLASSICAL, "--tolerances", "2", "0", "0")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


# --- score -----------------------------------------------------------------------------------------------
def test_score_prints_one_line_per_face(cli, tmp_path, two_people):
    f = write_jpeg(tmp_path / "pair.jpg", two_people)
    r = cli("score", *CLASSICAL, f)
    assert r.exit_code == 0, r.output
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith(str(f)) for line in lines)
    assert "face 1" in lines[0] and all(f"{a}=" in lines[0] for a in AXES)


def test_min_face_sets_the_smallest_face_judged_by_score_and_run(cli, tmp_path, two_people):
    import cv2

    far = cv2.resize(two_people, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)  # crops of 84 and 158 px
    f = write_jpeg(tmp_path / "in" / "far.jpg", far)
    faces = lambda *opt: len(cli("score", *CLASSICAL, *opt, f).stdout.strip().splitlines())
    assert (faces(), faces("--min-face", "0"), faces("--min-face", "200")) == (1, 2, 1)  # 200: judged whole
    assert "whole" not in cli("score", "--json", *CLASSICAL, f).stdout
    assert '"whole_image": true' in cli("score", "--json", *CLASSICAL, "--min-face", "200", f).stdout
    r = cli("run", *CLASSICAL, tmp_path / "in", "-o", tmp_path / "out", "--min-face", "0", "--no-correct", "-q")
    assert r.exit_code in (0, 1), r.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["min_face"] == 0 and len(report["images"][0]["faces"]) == 2
    assert cli("score", "--min-face", "-1", f).exit_code == 2


def test_score_json_prints_images_like_the_report(cli, good_jpeg, tmp_path, coffee):
    nf = write_jpeg(tmp_path / "coffee.jpg", coffee)
    r = cli("score", "--json", *CLASSICAL, good_jpeg, nf)
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert list(data) == ["images"]
    a, c = data["images"]
    assert a["file"] == str(good_jpeg) and a["status"] == "selected" and a["outputs"] == [] and a["error"] is None
    [face] = a["faces"]
    assert len(face["box"]) == 4 and set(face["scores"]) == set(AXES) and face["failed"] == []
    assert c["status"] == "no_face" and c["faces"][0]["whole_image"] is True


def test_verdict_option_picks_how_the_axes_combine(cli, good_jpeg, tmp_path):
    [face] = json.loads(cli("score", "--json", *CLASSICAL, good_jpeg).stdout)["images"][0]["faces"]
    # tolerances just under every score: each axis passes alone, but the losses add up to ~3 allowances
    tol = [f"{max(face['scores'][a] - 0.01, 0.01):.4f}" for a in AXES]
    verdicts = {}
    for rule in ("per-axis", "budget"):
        r = cli("score", "--json", *CLASSICAL, "--tolerances", *tol, "--verdict", rule, good_jpeg)
        assert r.exit_code == 0, r.output
        verdicts[rule] = json.loads(r.stdout)["images"][0]["faces"][0]["failed"]
    assert verdicts["per-axis"] == [] and verdicts["budget"]
    r = cli("run", good_jpeg.parent, "-o", tmp_path / "out", *CLASSICAL, "--tolerances", *tol, "--verdict", "per-axis",
            "--dry-run", "-q")
    assert json.loads(r.stdout)["verdict"] == "per-axis"
    assert cli("score", "--verdict", "average", good_jpeg).exit_code == 2


def test_score_no_detect_treats_each_file_as_one_face(cli, tmp_path, astronaut):
    crop = write_jpeg(tmp_path / "crop.jpg", astronaut[40:200, 150:300])  # 150 wide, 160 high
    r = cli("score", "--json", "--no-detect", *CLASSICAL, crop)
    [img] = json.loads(r.stdout)["images"]
    [face] = img["faces"]
    assert face["box"] == [0, 0, 150, 160]


def test_score_copies_nothing(cli, shoot):
    before = listing(shoot)
    cli("score", *CLASSICAL, *sorted(shoot.rglob("*.jpg")))
    assert listing(shoot) == before


def test_score_reports_each_bad_file_and_exits_1(cli, shoot, tmp_path):
    missing = tmp_path / "missing.jpg"
    r = cli("score", "--json", *CLASSICAL, shoot / "astronaut.jpg", shoot / "broken.jpg", missing)
    assert r.exit_code == 1
    images = json.loads(r.stdout)["images"]
    assert [i["status"] for i in images] == ["selected", "error", "error"]
    assert "truncated" in images[1]["error"] and images[2]["error"]


@pytest.mark.parametrize("args", [[], ["--model", "no-such-model", "x.jpg"], ["--bogus", "x.jpg"]],
                         ids=["no files", "unknown model", "unknown option"])
def test_score_usage_errors_exit_2(cli, args):
    assert cli("score", *args).exit_code == 2


# --- correct ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("metric", ["focus", "noise", "lighting", "auto"])
def test_correct_no_detect_writes_stem_png_of_the_input_size(cli, tmp_path, astronaut, metric):
    src = write_jpeg(tmp_path / "in" / "face crop.jpg", degrade.exposure(astronaut[30:230, 150:330], -2))
    r = cli("correct", "--metric", metric, "--no-detect", "-o", tmp_path / "out", *CLASSICAL, src)
    assert r.exit_code == 0, r.output
    out = tmp_path / "out" / "face crop.png"
    assert r.stdout.strip() == str(out)
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size == (180, 200)


def test_correct_lighting_improves_the_lighting_score(cli, tmp_path, astronaut):
    from clairvoyance.scoring import get_model

    dark = degrade.exposure(astronaut[30:230, 150:350], -2.5)
    src = write_jpeg(tmp_path / "dark.jpg", dark)
    cli("correct", "--metric", "lighting", "--no-detect", "-o", tmp_path / "out", *CLASSICAL, src)
    fixed = np.asarray(Image.open(tmp_path / "out" / "dark.png").convert("RGB"))
    m = get_model("classical")
    import cv2

    before, after = (m.predict([cv2.resize(x, (256, 256), interpolation=cv2.INTER_CUBIC)])[0] for x in (dark, fixed))
    assert before.lighting < 0.5 < after.lighting


def test_correct_auto_gives_a_second_round_to_an_axis_the_first_pushed_over(cli, tmp_path, dark_astronaut):
    from clairvoyance import Clairvoyance, Tolerances

    src = write_jpeg(tmp_path / "dark.jpg", dark_astronaut)  # fails lighting only
    cv = Clairvoyance()  # the default model, as `correct` uses it
    for metric in ("auto", "lighting"):
        r = cli("correct", "--metric", metric, "-o", tmp_path / metric, src)
        assert r.exit_code == 0, r.output
    auto, lit = (cv.classify(cv.identify(tmp_path / m / "dark.png"))[0] for m in ("auto", "lighting"))
    assert Tolerances().failed(lit) == ["noise"]  # brightened, its noise shows
    assert Tolerances().failed(auto) == [] and auto.noise > lit.noise + 0.2


def test_correct_a_whole_photo_with_detection_keeps_its_size(cli, tmp_path, hopper):
    src = write_jpeg(tmp_path / "noisy.jpg", degrade.sensor_noise(hopper, 25, np.random.default_rng(1)))
    r = cli("correct", "--metric", "noise", "-o", tmp_path / "out", *CLASSICAL, src)
    assert r.exit_code == 0, r.output
    with Image.open(tmp_path / "out" / "noisy.png") as im:
        assert im.size == (hopper.shape[1], hopper.shape[0])


def test_correct_auto_rejudges_a_photo_without_people_on_its_areas(cli, tmp_path, coffee):
    """A corrected scene is rejudged as `run` judges one: on its best areas, not one reduced square."""
    from clairvoyance import Clairvoyance, detection
    from clairvoyance.images import Photo

    grainy = degrade.sensor_noise(coffee, 20, np.random.default_rng(1))
    h, w = grainy.shape[:2]
    scene = detection.whole_image_face(Photo(Path("grainy.jpg"), grainy, (w, h)))
    cv = Clairvoyance()
    fixed, crops, [score], axes = cv.correct_and_rejudge(grainy, [scene], [["noise"]])
    again = detection.whole_image_face(Photo(Path("fixed"), fixed, (w, h)))
    assert axes[0][0] == "noise" and (crops[0] == again.crop).all()
    assert score == cv.classify([again])[0] != cv.classify([replace(again, tiles=None)])[0]
    src = write_jpeg(tmp_path / "grainy.jpg", grainy)
    r = cli("correct", "--metric", "auto", "-o", tmp_path / "out", src)  # and the command takes this path
    assert r.exit_code == 0 and (tmp_path / "out" / "grainy.png").is_file(), r.output


def test_correct_writes_a_raw_as_a_16_bit_tiff_with_its_exif_as_run_does(cli, tmp_path, astronaut):
    """From the full 16-bit demosaic (not the camera's preview): the correction is added to it as a
    residual (steps of 257), pixels it did not reach keep every bit, and the DNG's EXIF comes along."""
    import cv2
    import rawpy

    src = write_dng(tmp_path / "in" / "soft.dng", degrade.defocus_blur(astronaut, 3), make="Canon", model="EOS Test")
    r = cli("correct", "--metric", "focus", "-o", tmp_path / "out", *CLASSICAL, src)
    assert r.exit_code == 0, r.output
    out = tmp_path / "out" / "soft.tif"
    assert r.stdout.strip() == str(out)
    pixels = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)[..., ::-1]
    with rawpy.imread(str(src)) as raw:
        demosaic = raw.postprocess(use_camera_wb=True, output_bps=16)
    assert pixels.dtype == np.uint16 and pixels.shape == demosaic.shape
    assert 0.02 < np.any(pixels != demosaic, axis=2).mean() < 0.5  # around the face only
    step = pixels.astype(int) - demosaic
    assert np.all((step % 257 == 0) | (pixels == 0) | (pixels == 65535))
    with Image.open(out) as im:
        ex = im.getexif()
    assert (ex[0x010F], ex[0x0110], ex[0x0131]) == ("Canon", "EOS Test", "Clairvoyance")


def test_correct_reports_a_bad_file_exits_1_and_corrects_the_rest(cli, shoot, tmp_path):
    r = cli("correct", "--metric", "lighting", "-o", tmp_path / "out", *CLASSICAL, shoot / "broken.jpg",
            shoot / "dark.jpg")
    assert r.exit_code == 1
    assert "broken.jpg" in r.stderr
    assert (tmp_path / "out" / "dark.png").is_file() and not (tmp_path / "out" / "broken.png").exists()


def test_correct_never_overwrites_a_different_file(cli, tmp_path, good_jpeg):
    out = tmp_path / "out"
    out.mkdir()
    (out / "astronaut.png").write_bytes(b"someone else's file")
    r = cli("correct", "--metric", "noise", "--no-detect", "-o", out, *CLASSICAL, good_jpeg)
    assert r.exit_code == 0
    assert (out / "astronaut.png").read_bytes() == b"someone else's file"
    assert r.stdout.strip() == str(out / "astronaut-1.png")


@pytest.mark.parametrize("args", [
    ["--metric", "focus", "x.jpg"],  # no -o
    ["--metric", "sharpness", "-o", "out", "x.jpg"],
    ["--metric", "focus", "-o", "out"],  # no files
], ids=["no output", "unknown metric", "no files"])
def test_correct_usage_errors_exit_2(cli, args, tmp_path):
    assert cli("correct", *args).exit_code == 2
