"""The web app's JSON API, driven with FastAPI's test client: the IQA browser (photos, faces, scores,
upload, correction), the folder view (a run's report), the labelling studio (chart, queue, labels,
CSV export), and the safety rules (paths never escape PHOTO_DIR, only images, size limit, JSON errors).
"""
from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from clairvoyance import AXES, Clairvoyance
from clairvoyance.scoring import get_model
from clairvoyance.training import chart
from clairvoyance.web import create_app

from conftest import jpeg_bytes, png_header_only
from webutil import make_dataset, make_photo_dir


@pytest.fixture(scope="module")
def folders(tmp_path_factory, astronaut, hopper, coffee):
    root = tmp_path_factory.mktemp("web")
    photos = make_photo_dir(root / "photos", astronaut, hopper, coffee)
    data = make_dataset(root / "data")
    return photos, data


@pytest.fixture
def client(folders):
    photos, data = folders
    with TestClient(create_app(photos, ":memory:", data_dir=data, model="classical")) as c:
        yield c


def image_of(resp) -> Image.Image:
    return Image.open(io.BytesIO(resp.content))


# --- the IQA browser -------------------------------------------------------------------------------------
def test_the_photo_list_holds_the_folders_photos_and_nothing_else(client):
    paths = [p["path"] for p in client.get("/api/photos").json()["photos"]]
    assert paths == ["astronaut.jpg", "coffee.jpg", "dark.jpg", "fake.jpg", "sub/hopper.jpg"]  # no notes.txt, no links out


def test_a_photo_shows_each_face_with_its_box_crop_and_three_scores(client):
    p = client.get("/api/photo", params={"path": "astronaut.jpg"}).json()
    assert (p["width"], p["height"]) == (512, 512)
    [face] = p["faces"]
    x, y, w, h = face["box"]
    assert abs(x - 178) < 12 and abs(y - 63) < 12 and 70 < w < 110  # YuNet's box of Eileen Collins' face
    assert set(face["scores"]) == set(AXES) and all(0 <= v <= 1 for v in face["scores"].values())
    assert face["crop"].startswith("data:image/jpeg;base64,")
    assert p["model"] == "classical@1" and p["tolerances"] == {"focus": 0.5, "noise": 0.5, "lighting": 0.5}


def test_scores_are_the_models_scores_of_the_same_face(client, folders):
    photos, _ = folders
    [face] = Clairvoyance(model="classical").identify(photos / "dark.jpg")
    [expected] = get_model("classical").predict([face.crop], [face.native_size])
    got = client.get("/api/photo", params={"path": "dark.jpg"}).json()["faces"][0]["scores"]
    assert got == pytest.approx(expected.as_dict(), abs=1e-4)
    assert got["lighting"] < 0.5  # two stops under: fails lighting


def test_a_photo_without_a_face_is_scored_as_a_whole(client):
    from clairvoyance.detection import MIN_FACE_SIDE

    d = client.get("/api/photo", params={"path": "coffee.jpg"}).json()
    [face] = d["faces"]
    assert face["whole_image"] is True and face["box"] == [0, 0, 600, 400]
    assert d["min_face"] == client.get("/api/info").json()["min_face"] == MIN_FACE_SIDE  # faces judged, as in run


def test_the_image_and_thumbnails_are_jpegs_of_the_photo(client):
    r = client.get("/api/image", params={"path": "sub/hopper.jpg"})
    assert r.headers["content-type"] == "image/jpeg" and image_of(r).size == (512, 600)
    t = client.get("/api/thumb", params={"path": "sub/hopper.jpg", "size": 100})
    assert max(image_of(t).size) <= 100


def test_a_file_that_is_not_an_image_is_a_clear_json_error(client):
    r = client.get("/api/photo", params={"path": "fake.jpg"})
    assert r.status_code == 422 and "cannot read the image" in r.json()["detail"]


def test_correct_a_failing_face_shows_before_after_and_the_photo(client):
    r = client.post("/api/correct", json={"path": "dark.jpg", "face": 0, "tolerances": {"lighting": 0.5}})
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["axes"] == ["lighting"] and c["passes"] is True
    assert c["after"]["scores"]["lighting"] > c["before"]["scores"]["lighting"] + 0.2
    assert c["before"]["crop"].startswith("data:image/jpeg") and c["after"]["crop"].startswith("data:image/jpeg")
    import base64

    fixed = Image.open(io.BytesIO(base64.b64decode(c["photo"].split(",", 1)[1])))
    assert fixed.size == (512, 512) and np.asarray(fixed).mean() > 60  # the whole photo, brighter


def test_correct_gives_a_second_round_to_axes_the_first_pushed_over_unless_the_axes_were_chosen(tmp_path,
                                                                                                dark_astronaut):
    (tmp_path / "dark.jpg").write_bytes(jpeg_bytes(dark_astronaut))
    with TestClient(create_app(tmp_path, ":memory:")) as c:  # the default model, as `run` uses it
        auto = c.post("/api/correct", json={"path": "dark.jpg", "face": 0}).json()
        chosen = c.post("/api/correct", json={"path": "dark.jpg", "face": 0, "axes": ["lighting"]}).json()
    assert auto["before"]["failed"] == ["lighting"]
    assert auto["axes"] == ["noise", "lighting"] and auto["passes"] is True  # brightening raised the noise
    assert chosen["axes"] == ["lighting"]  # what was asked for, and only that


def test_the_browser_page_joins_the_axes_with_the_verdict_modules_power():
    from pathlib import Path

    from clairvoyance import verdict

    js = (Path(__file__).resolve().parents[1] / "clairvoyance" / "web" / "static" / "browser.js").read_text()
    assert f"const BUDGET_POWER = {verdict.POWER};" in js  # the page judges live as the server does


def test_correcting_a_face_that_passes_is_refused_with_a_reason(client):
    r = client.post("/api/correct", json={"path": "astronaut.jpg", "face": 0})
    assert r.status_code == 400 and "nothing to correct" in r.json()["detail"]
    r = client.post("/api/correct", json={"path": "astronaut.jpg", "face": 5})
    assert r.status_code == 404 and "1 face" in r.json()["detail"]


# --- uploads -----------------------------------------------------------------------------------------------
def test_an_uploaded_photo_is_analysed_like_a_folder_photo(client, astronaut):
    r = client.post("/api/upload", files={"file": ("portrait.jpeg", jpeg_bytes(astronaut), "image/jpeg")})
    assert r.status_code == 200, r.text
    up = r.json()
    assert len(up["upload"]) == 64 and up["name"] == "portrait.jpeg" and up["format"] == "JPEG"
    p = client.get("/api/photo", params={"upload": up["upload"]}).json()
    assert len(p["faces"]) == 1 and p["source"] == {"upload": up["upload"]}
    assert client.get("/api/image", params={"upload": up["upload"]}).headers["content-type"] == "image/jpeg"


def test_uploads_are_checked_by_content_not_by_name(client, astronaut):
    r = client.post("/api/upload", files={"file": ("photo.jpg", b"<html>not an image</html>", "image/jpeg")})
    assert r.status_code == 415 and "not an image file" in r.json()["detail"]
    buf = io.BytesIO()
    Image.fromarray(astronaut).save(buf, format="PNG")
    r = client.post("/api/upload", files={"file": ("photo.txt", buf.getvalue(), "text/plain")})
    assert r.status_code == 200 and r.json()["format"] == "PNG"


def test_a_phones_heic_can_be_uploaded(client, astronaut, tmp_path):
    from photo_files import write_heic

    data = write_heic(tmp_path / "phone.heic", astronaut).read_bytes()
    r = client.post("/api/upload", files={"file": ("IMG_0001.HEIC", data, "image/heic")})
    assert r.status_code == 200 and r.json()["format"] == "HEIF"
    assert len(client.get("/api/photo", params={"upload": r.json()["upload"]}).json()["faces"]) == 1


def test_a_truncated_or_bomb_upload_is_refused(client, astronaut):
    r = client.post("/api/upload", files={"file": ("cut.jpg", jpeg_bytes(astronaut)[:5000], "image/jpeg")})
    assert r.status_code == 422 and "truncated" in r.json()["detail"]
    r = client.post("/api/upload", files={"file": ("bomb.png", png_header_only(20000, 20000), "image/png")})
    assert r.status_code == 422 and "too large" in r.json()["detail"]


def test_uploads_over_the_size_limit_get_413(folders, astronaut):
    photos, _ = folders
    with TestClient(create_app(photos, ":memory:", model="classical", max_upload_mb=0.01)) as c:
        r = c.post("/api/upload", files={"file": ("big.jpg", jpeg_bytes(astronaut), "image/jpeg")})
        assert r.status_code == 413 and "too large" in r.json()["detail"]
        small = io.BytesIO()
        Image.fromarray(astronaut[:64, :64]).save(small, format="PNG")
        assert c.post("/api/upload", files={"file": ("s.png", small.getvalue(), "image/png")}).status_code == 200


def test_an_unknown_upload_id_is_404(client):
    for uid in ("0" * 64, "../../etc/passwd", "x"):
        r = client.get("/api/photo", params={"upload": uid})
        assert r.status_code == 404 and r.json()["detail"] == "upload not found"


# --- paths never escape PHOTO_DIR ----------------------------------------------------------------------------
ESCAPES = ["../outside.jpg", "sub/../../outside.jpg", "link.jpg", "uplink/outside.jpg", "/etc/passwd",
           "//etc/passwd", "~/outside.jpg", "..\\outside.jpg", "C:/Windows/win.ini", "astronaut.jpg\x00.png",
           "%2e%2e/outside.jpg", "..%2Foutside.jpg", "%252e%252e%252foutside.jpg", ".", "sub", ""]


@pytest.mark.parametrize("path", ESCAPES)
@pytest.mark.parametrize("endpoint", ["/api/photo", "/api/image", "/api/thumb"])
def test_no_path_gets_out_of_the_photo_folder(client, folders, endpoint, path):
    assert (folders[0].parent / "outside.jpg").is_file()  # there is something to steal
    r = client.get(endpoint, params={"path": path})
    assert r.status_code in (400, 404), (path, r.status_code)
    assert r.headers["content-type"] == "application/json" and r.json()["detail"]


@pytest.mark.parametrize("raw", ["..%2Foutside.jpg", "%2E%2E%2Foutside.jpg", "sub%2F..%2F..%2Foutside.jpg",
                                 "%2Fetc%2Fpasswd", "..%252Foutside.jpg", "link.jpg"])
def test_percent_encoded_escapes_in_the_raw_url_are_refused(client, raw):
    r = client.get(f"/api/photo?path={raw}")
    assert r.status_code == 404 and r.json()["detail"] == "photo not found"


def test_a_run_folder_cannot_escape_either(client):
    for run in ("..", "../", "/", "uplink", "sub/../.."):
        r = client.get("/api/run", params={"run": run})
        assert r.status_code == 404, run


# --- the folder view ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ran(folders, tmp_path_factory):
    """A classical run over a copy of the photos, its report in the folder (the default layout)."""
    import shutil

    photos, _ = folders
    d = tmp_path_factory.mktemp("run") / "shoot"
    shutil.copytree(photos, d, symlinks=True)
    Clairvoyance(model="classical", input_dir=d, tolerances=(0.5, 0.5, 0.5)).run(log=lambda m: None)
    return d


def test_the_folder_view_lists_runs_and_their_photos_with_verdicts(ran):
    with TestClient(create_app(ran, ":memory:", model="classical")) as c:
        [run] = c.get("/api/runs").json()["runs"]
        assert run["run"] == "." and run["photos"] == 5  # link.jpg points outside: skipped
        d = c.get("/api/run", params={"run": "."}).json()
        by = {i["file"]: i for i in d["images"]}
        assert by["astronaut.jpg"]["status"] == "selected" and by["astronaut.jpg"]["failed"] == []
        assert by["dark.jpg"]["status"] == "corrected" and by["dark.jpg"]["failed"] == ["lighting"]
        assert by["fake.jpg"]["status"] == "error" and by["fake.jpg"]["error"]
        assert d["counts"]["error"] == 1 and sum(d["counts"].values()) == d["total"] == 5
        assert d["verdict"] == "budget" and d["tolerances"] == {"focus": 0.5, "noise": 0.5, "lighting": 0.5}
        assert c.get(by["dark.jpg"]["thumb"]).headers["content-type"] == "image/jpeg"
        assert by["dark.jpg"]["open"] == "dark.jpg"


def test_the_folder_view_filters_by_status(ran):
    with TestClient(create_app(ran, ":memory:", model="classical")) as c:
        d = c.get("/api/run", params={"run": ".", "status": "corrected"}).json()
        assert [i["file"] for i in d["images"]] == ["dark.jpg"]
        r = c.get("/api/run", params={"run": ".", "status": "lost"})
        assert r.status_code == 400 and "selected" in r.json()["detail"]


def test_a_broken_report_is_a_clear_error(tmp_path):
    (tmp_path / "report.json").write_text("{not json")
    with TestClient(create_app(tmp_path, ":memory:", model="classical")) as c:
        assert c.get("/api/runs").json() == {"runs": []}
        r = c.get("/api/run", params={"run": "."})
        assert r.status_code == 422 and "report.json" in r.json()["detail"]


# --- the calibration chart -------------------------------------------------------------------------------------
def test_the_chart_has_every_axis_at_labels_0_to_1(client):
    c = client.get("/api/chart").json()
    assert c["levels"] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert [r["key"] for r in c["rows"]] == ["focus", "noise", "lighting-under", "lighting-over"]
    for row in c["rows"]:
        strengths = [abs(i["strength"]) for i in row["items"]]
        assert strengths == sorted(strengths, reverse=True) and strengths[-1] == 0  # label 1 is the clean face
    focus = {i["label"]: i["strength"] for i in c["rows"][0]["items"]}
    assert focus[0.5] == pytest.approx(1.0)  # the edge of acceptable: blur sigma 1 px, as the scale says


def test_chart_crops_are_the_reference_face_degraded(client):
    face = chart.reference_face().astype(float)

    def crop(row, label):
        r = client.get("/api/chart/image", params={"row": row, "label": label})
        assert r.headers["content-type"] == "image/png"
        return np.asarray(image_of(r).convert("RGB"), float)

    assert np.array_equal(crop("noise", 1.0), face)
    noise = [np.sqrt(((crop("noise", lv) - face) ** 2).mean()) for lv in (0.75, 0.5, 0.25)]
    assert noise == sorted(noise) and 6 < noise[1] < 10  # label 0.5: 8 levels of noise
    assert crop("lighting-under", 0.25).mean() < crop("lighting-under", 0.75).mean() < face.mean()
    assert crop("lighting-over", 0.25).mean() > face.mean()
    assert client.get("/api/chart/image", params={"row": "colour", "label": 0.5}).status_code == 404
    assert client.get("/api/chart/image", params={"row": "focus", "label": 0.3}).status_code == 404


# --- the labelling studio ----------------------------------------------------------------------------------------
def test_the_queue_lists_the_datasets_crops_and_progress(client):
    q = client.get("/api/studio/queue").json()
    assert q["total"] == 4 and q["labelled"] == 0 and q["model"] == "classical@1"
    assert [i["file"] for i in q["items"]][0] == "crops/person0_clean.png"


def test_an_item_is_prefilled_with_the_models_prediction(client, folders):
    _, data = folders
    item = client.get("/api/studio/item", params={"file": "crops/person1_blurred.png"}).json()
    crop = np.asarray(Image.open(data / "crops/person1_blurred.png").convert("RGB"))
    [s] = get_model("classical").predict([crop], [256])
    assert item["prediction"] == pytest.approx(s.as_dict(), abs=1e-4)
    assert item["label"] is None and item["index"] == 1
    assert client.get(item["image"]).headers["content-type"] == "image/png"


def test_a_label_is_saved_with_who_when_and_the_prediction(client):
    pred = client.get("/api/studio/item", params={"file": "crops/person2_noisy.png"}).json()["prediction"]
    r = client.put("/api/labels", json={"file": "crops/person2_noisy.png", "focus": 0.9, "noise": 0.2,
                                        "lighting": 0.8, "who": "ana"})
    assert r.status_code == 200, r.text
    lab = r.json()["label"]
    assert lab["who"] == "ana" and lab["labelled_at"].endswith("+00:00") and lab["model"] == "classical@1"
    assert lab["prediction"] == pytest.approx(pred, abs=1e-6)
    item = client.get("/api/studio/item", params={"file": "crops/person2_noisy.png"}).json()
    assert item["label"]["noise"] == 0.2
    stats = r.json()["stats"]
    assert stats["labelled"] == 1 and stats["total"] == 4
    mac = stats["mean_abs_change"]
    assert mac["n"] == 1 and mac["noise"] == pytest.approx(abs(0.2 - pred["noise"]), abs=1e-3)
    assert client.get("/api/studio/queue").json()["labelled"] == 1


def test_labels_export_as_csv_that_train_iqa_reads(client, tmp_path):
    from clairvoyance.training.dataset import read_human_labels

    for f, v in (("crops/person0_clean.png", 0.95), ("crops/person3_dark.png", 0.3)):
        client.put("/api/labels", json={"file": f, "focus": v, "noise": v, "lighting": v})
    r = client.get("/api/labels.csv")
    assert r.headers["content-type"].startswith("text/csv") and "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0])[:4] == ["file", "focus", "noise", "lighting"]
    assert {"who", "labelled_at", "model", "pred_focus"} <= set(rows[0])
    assert {row["file"]: float(row["lighting"]) for row in rows} == {"crops/person0_clean.png": 0.95,
                                                                     "crops/person3_dark.png": 0.3}
    (tmp_path / "labels.csv").write_text(r.text)
    assert set(read_human_labels(tmp_path / "labels.csv")) == {"crops/person0_clean.png", "crops/person3_dark.png"}


@pytest.mark.parametrize("body, status", [
    ({"file": "crops/person0_clean.png", "focus": 1.5, "noise": 0.5, "lighting": 0.5}, 422),
    ({"file": "crops/person0_clean.png", "focus": 0.5, "noise": 0.5}, 422),
    ({"file": "crops/elsewhere.png", "focus": 0.5, "noise": 0.5, "lighting": 0.5}, 404),
    ({"file": "../photos/astronaut.jpg", "focus": 0.5, "noise": 0.5, "lighting": 0.5}, 404),
])
def test_bad_labels_are_refused_with_a_clear_message(client, body, status):
    r = client.put("/api/labels", json=body)
    assert r.status_code == status and isinstance(r.json()["detail"], str) and r.json()["detail"]
    assert client.get("/api/labels").json()["labels"] == []


def test_only_the_datasets_crops_are_served(client):
    for f in ("manifest.csv", "../photos/astronaut.jpg", "/etc/passwd", "crops/../manifest.csv"):
        assert client.get("/api/studio/crop", params={"file": f}).status_code == 404


def test_without_a_dataset_the_studio_says_how_to_get_one(folders):
    with TestClient(create_app(folders[0], ":memory:", model="classical")) as c:
        r = c.get("/api/studio/queue")
        assert r.status_code == 404 and "--data" in r.json()["detail"]


def test_a_photo_dir_holding_a_manifest_is_the_dataset(folders):
    with TestClient(create_app(folders[1], ":memory:", model="classical")) as c:
        assert c.get("/api/studio/queue").json()["total"] == 4


# --- the app as a whole ----------------------------------------------------------------------------------------
def test_every_page_and_the_openapi_docs_are_served(client):
    for url in ("/", "/folder", "/chart", "/studio", "/docs", "/static/app.css", "/static/studio.js"):
        assert client.get(url).status_code == 200, url
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/photo", "/api/upload", "/api/correct", "/api/run", "/api/chart", "/api/labels",
            "/api/labels.csv", "/api/studio/queue"} <= set(paths)


def test_errors_are_json_messages(client):
    r = client.get("/api/nothing-here")
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}
    r = client.get("/api/photo")
    assert r.status_code == 400 and "path" in r.json()["detail"]
    r = client.get("/api/thumb", params={"path": "astronaut.jpg", "size": "big"})
    assert r.status_code == 422 and r.json()["detail"].startswith("size:")


def test_only_local_host_names_are_answered(client):
    assert client.get("/api/info", headers={"host": "evil.example:8000"}).status_code == 421
    assert client.get("/api/info", headers={"host": "localhost:8000"}).status_code == 200
    assert client.get("/api/info", headers={"host": "[::1]:8000"}).status_code == 200


def test_writes_from_another_origin_are_refused(client):
    body = {"file": "crops/person0_clean.png", "focus": 0.5, "noise": 0.5, "lighting": 0.5}
    r = client.put("/api/labels", json=body, headers={"origin": "http://evil.example"})
    assert r.status_code == 403
    assert client.put("/api/labels", json=body, headers={"origin": "http://testserver"}).status_code == 200


def test_an_unknown_model_fails_when_the_app_is_built(folders):
    from clairvoyance import UnknownModelError

    with pytest.raises(UnknownModelError, match="classical"):
        create_app(folders[0], ":memory:", model="no-such-model")


# --- `clairvoyance serve` ------------------------------------------------------------------------------------
def test_serve_help_says_it_binds_to_localhost(cli):
    text = cli("serve", "--help").stdout
    for opt in ("--db", "--data", "--model", "--host", "--port", "--max-upload-mb"):
        assert opt in text
    assert "127.0.0.1" in text


def test_serve_with_an_unknown_model_is_a_usage_error(cli, folders):
    from click.testing import CliRunner

    from clairvoyance.cli import main

    r = CliRunner().invoke(main, ["serve", str(folders[0]), "--model", "nope"])
    assert r.exit_code == 2 and "classical" in r.stderr


def test_serve_starts_the_app_on_localhost_and_stops_cleanly(folders, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    from webutil import free_port

    repo = Path(__file__).resolve().parents[1]
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")])}
    db = tmp_path / "labels.sqlite"
    p = subprocess.Popen([sys.executable, "-m", "clairvoyance.cli", "serve", str(folders[0]), "--db", str(db),
                          "--data", str(folders[1]), "--model", "classical", "--port", str(port)],
                         stderr=subprocess.PIPE, text=True, env=env)
    try:
        info, t0 = None, time.time()
        while info is None and time.time() - t0 < 60 and p.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/info", timeout=2) as r:
                    info = json.loads(r.read())
            except OSError:
                time.sleep(0.2)
        assert info is not None, "the server did not answer"
        assert info["model"] == "classical@1" and info["dataset"] == folders[1].name
        assert info["schema_version"] >= 1 and db.is_file()
    finally:
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=20)
    assert p.returncode == 0, err
    assert f"http://127.0.0.1:{port}/" in err
