"""End to end in a real browser: the real server (uvicorn on a free localhost port) driven by headless
Chromium through Playwright, as a person would use it. Debian's ``chromium`` is used (``make test``
installs it); these tests are skipped, saying so, where it or Playwright is missing.

Screenshots go to pytest's temporary folder; with ``UPDATE_SCREENSHOTS=1`` one of each page is also
written to docs/screenshots/ (JPEG) for the README.
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest

from clairvoyance import Clairvoyance
from clairvoyance.web import create_app

from conftest import jpeg_bytes
from webutil import ServerThread, make_dataset, make_photo_dir

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DOCS_SHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (make test installs Debian's chromium)", allow_module_level=True)
expect = sync_api.expect


@pytest.fixture(scope="module")
def server(tmp_path_factory, astronaut, hopper, coffee):
    root = tmp_path_factory.mktemp("e2e")
    photos = make_photo_dir(root / "photos", astronaut, hopper, coffee)
    Clairvoyance(model="classical", input_dir=photos, output_dir=photos).run(log=lambda m: None)
    data = make_dataset(root / "data")
    app = create_app(photos, root / "labels.sqlite", data_dir=data, model="classical")
    with ServerThread(app) as s:
        s.db = root / "labels.sqlite"
        yield s


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=server.url, accept_downloads=True)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.set_default_timeout(20_000)
    yield pg
    ctx.close()
    assert errors == [], f"JavaScript errors: {errors}"


def shoot(page, tmp_path: Path, name: str) -> Path:
    """Screenshot the page into the test's folder (and into docs/screenshots/ with UPDATE_SCREENSHOTS=1)."""
    out = tmp_path / f"{name}.png"
    page.screenshot(path=str(out), full_page=True)
    assert out.stat().st_size > 10_000
    if os.environ.get("UPDATE_SCREENSHOTS"):  # as JPEG: a fifth of the size, plenty for the README
        from PIL import Image

        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        with Image.open(out) as im:
            im.convert("RGB").save(DOCS_SHOTS / f"{name}.jpg", quality=85, optimize=True)
    return out


# --- the IQA browser ---------------------------------------------------------------------------------------
def test_open_a_photo_see_boxes_and_scores_and_the_verdict_follows_the_tolerance(page, tmp_path):
    page.goto("/")
    page.click('.thumb[data-path="astronaut.jpg"]')
    expect(page.locator(".viewer .box")).to_have_count(1)
    expect(page.locator(".face .bar")).to_have_count(3)
    expect(page.locator('.thumb[data-path="fake.jpg"] .none')).to_have_text("no preview")
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-verdict", "pass")
    box = page.locator(".viewer .box").bounding_box()
    photo = page.locator("#photo").bounding_box()
    assert box["width"] > 10 and photo["x"] <= box["x"] < photo["x"] + photo["width"]  # drawn on the photo
    shoot(page, tmp_path, "iqa-browser")
    page.focus("#tol-focus")
    page.keyboard.press("End")  # the strictest focus tolerance: 1.0
    expect(page.locator("#tol-focus-value")).to_have_text("1.00")
    expect(verdict).to_have_attribute("data-verdict", "fail")
    expect(verdict).to_contain_text("focus")
    expect(page.locator(".viewer .box.fail")).to_have_count(1)
    page.keyboard.press("Home")  # and back: the verdict is computed live from the scores
    expect(verdict).to_have_attribute("data-verdict", "pass")
    page.click('.thumb[data-path="coffee.jpg"]')  # no person: the whole photo is the subject, and it says why
    expect(page.locator("#faces h3")).to_have_text(
        "1 subject (no face of 96 px or more found: the whole image, judged on its best areas)")
    expect(page.locator("#faces .face .title")).to_contain_text("Whole image")


def test_the_verdict_rule_can_be_switched_and_explains_a_face_that_fails_on_the_sum(page):
    page.goto("/")
    page.click('.thumb[data-path="astronaut.jpg"]')
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-verdict", "pass")
    expect(page.locator("#rule")).to_have_value("budget")  # the server's rule, from /api/info
    for axis in ("focus", "noise", "lighting"):  # just under every score: each axis passes alone
        score = float(page.locator(f'.face .bar[data-axis="{axis}"] span').nth(1).inner_text())
        page.locator(f"#tol-{axis}").fill(f"{max(score - 0.02, 0.01):.2f}")
    expect(verdict).to_have_attribute("data-verdict", "fail")  # ... but the losses add up to ~2 allowances
    expect(page.locator(".budget-note")).to_contain_text("together use")
    expect(page.locator(".face .correct")).to_be_visible()
    page.select_option("#rule", "per-axis")
    expect(verdict).to_have_attribute("data-verdict", "pass")
    expect(page.locator(".budget-note")).to_have_count(0)


def test_upload_a_failing_photo_and_correct_its_face(page, tmp_path, astronaut):
    from clairvoyance import degrade

    page.goto("/")
    page.set_input_files("#upload", files=[{"name": "dark.jpg", "mimeType": "image/jpeg",
                                            "buffer": jpeg_bytes(degrade.exposure(astronaut, -2.0))}])
    expect(page.locator("#verdict")).to_have_attribute("data-verdict", "fail")
    expect(page.locator("#verdict")).to_contain_text("lighting")
    page.click("button.correct")
    expect(page.locator("#correction-verdict")).to_have_text("passes now")
    for img in ("#after-crop", "#corrected-photo"):
        expect(page.locator(img)).to_be_visible()
        assert page.eval_on_selector(img, "i => i.naturalWidth") > 100
    shoot(page, tmp_path, "iqa-browser-correction")


def test_a_bad_upload_shows_the_servers_message(page):
    page.goto("/")
    page.set_input_files("#upload", files=[{"name": "x.jpg", "mimeType": "image/jpeg", "buffer": b"not an image"}])
    expect(page.locator("#error")).to_contain_text("not an image file")


# --- the folder view ----------------------------------------------------------------------------------------
def test_the_folder_view_shows_a_runs_verdicts_and_filters_them(page, tmp_path):
    page.goto("/folder")
    cards = page.locator(".card")
    expect(cards).to_have_count(5)
    expect(page.locator('.card[data-file="dark.jpg"] .chip.fail')).to_have_text("lighting")
    expect(page.locator(".card .img img")).to_have_count(4)  # fake.jpg has no preview
    page.wait_for_function("[...document.querySelectorAll('.card img')].every(i => i.complete && i.naturalWidth > 0)")
    shoot(page, tmp_path, "folder-view")
    page.click('button[data-filter="corrected"]')
    expect(cards).to_have_count(1)
    expect(page.locator(".card")).to_have_attribute("data-status", "corrected")
    page.click('button[data-filter="error"]')
    expect(page.locator('.card[data-file="fake.jpg"]')).to_be_visible()
    page.click('button[data-filter="all"]')
    expect(cards).to_have_count(5)


# --- the labelling studio ------------------------------------------------------------------------------------
def test_the_calibration_chart_shows_every_axis_at_five_labels(page, tmp_path):
    page.goto("/chart")
    expect(page.locator("table.chart tr[data-row]")).to_have_count(4)
    imgs = page.locator("table.chart td img")
    expect(imgs).to_have_count(20)
    page.wait_for_function("[...document.querySelectorAll('table.chart td img')].every(i => i.complete && i.naturalWidth == 256)")
    shoot(page, tmp_path, "calibration-chart")


def test_label_three_crops_with_the_keyboard_reload_and_export(page, tmp_path, server):
    page.goto("/studio")
    page.fill("#who", "ana")
    page.locator("#who").blur()
    expect(page.locator("#progress-text")).to_have_text("0 / 4 labelled")
    expect(page.locator("#item-title")).to_contain_text("Face 1 of 4")
    expect(page.locator(".minichart img")).to_have_count(20)  # the chart beside the crop

    # 1: accept the model's prediction
    predicted = float(page.locator("#lab-focus-value").inner_text())
    page.keyboard.press("Enter")
    expect(page.locator("#item-title")).to_contain_text("Face 2 of 4")
    # 2: pick noise, nudge it up twice (+0.10), save and go on
    noise_pred = float(page.locator("#lab-noise-value").inner_text())
    page.keyboard.press("2")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expected_noise = min(1.0, round(noise_pred + 0.10, 2))
    expect(page.locator("#lab-noise-value")).to_have_text(f"{expected_noise:.2f}")
    page.keyboard.press(" ")
    expect(page.locator("#item-title")).to_contain_text("Face 3 of 4")
    # 3: pick lighting, nudge it down, save with "s"
    light_pred = float(page.locator("#lab-lighting-value").inner_text())
    page.keyboard.press("3")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("s")
    expect(page.locator("#item-title")).to_contain_text("Face 4 of 4")
    expect(page.locator("#progress-text")).to_have_text("3 / 4 labelled")
    expect(page.locator("#mac-noise")).not_to_have_text("–")
    shoot(page, tmp_path, "labelling-studio")

    # reload: the labels are kept, shown in the queue and on the sliders
    page.reload()
    expect(page.locator("#progress-text")).to_have_text("3 / 4 labelled")
    expect(page.locator("#queue li.done")).to_have_count(3)
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#item-title")).to_contain_text("Face 2 of 4")
    expect(page.locator("#lab-noise-value")).to_have_text(f"{expected_noise:.2f}")
    expect(page.locator("#status")).to_contain_text("by ana")

    # export
    with page.expect_download() as dl:
        page.click("#export")
    rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text("utf-8"))))
    assert list(rows[0])[:4] == ["file", "focus", "noise", "lighting"]
    by = {r["file"]: r for r in rows}
    assert list(by) == ["crops/person0_clean.png", "crops/person1_blurred.png", "crops/person2_noisy.png"]
    assert float(by["crops/person0_clean.png"]["focus"]) == pytest.approx(predicted, abs=0.006)
    assert float(by["crops/person1_blurred.png"]["noise"]) == pytest.approx(expected_noise)
    assert float(by["crops/person2_noisy.png"]["lighting"]) == pytest.approx(max(0.0, light_pred - 0.05), abs=1e-6)
    assert {r["who"] for r in rows} == {"ana"} and all(r["pred_noise"] for r in rows)
