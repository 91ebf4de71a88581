"""report.html, the contact sheet of a run, opened from disk in a real headless Chromium (Debian's, driven by
Playwright): every photo with its faces boxed, score bars against the tolerances, verdicts in words,
before/after for corrected photos, filtering and sorting, and not one request leaving the file."""
from __future__ import annotations

import os
import re
import shutil

import pytest

from clairvoyance import Clairvoyance

from conftest import EXPECTED_SHOOT, write_jpeg

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def sheet(tmp_path_factory, astronaut, hopper, coffee):
    from conftest import make_shoot

    root = tmp_path_factory.mktemp("html")
    shoot = make_shoot(root / "shoot", astronaut, hopper, coffee)
    write_jpeg(shoot / "<b>odd & name.jpg", astronaut)  # must be shown as text, never as markup
    res = Clairvoyance(model="classical", input_dir=shoot, output_dir=root / "out").run(log=lambda m: None)
    return root / "out" / "report.html", {r.file: r for r in res.images}


def test_the_report_is_one_self_contained_file(sheet):
    page, _ = sheet
    text = page.read_text("utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)  # nothing fetched from anywhere
    assert "<b>odd" not in text and "&lt;b&gt;odd &amp; name.jpg" in text
    assert text.count('class="photo"') == len(EXPECTED_SHOOT) + 1


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium missing (make test installs it: make browser-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, sheet):
    report, _ = sheet
    p = browser.new_page(viewport={"width": 1300, "height": 900})
    requests: list[str] = []
    p.on("request", lambda r: requests.append(r.url))
    p.goto(report.as_uri())
    p.wait_for_load_state("load")
    yield p
    assert all(u.startswith(("file:", "data:")) for u in requests), requests  # opens without a server
    p.close()


def visible_files(page) -> list[str]:
    return page.eval_on_selector_all("article.photo:not([hidden])", "els => els.map(e => e.dataset.file)")


def test_every_photo_is_shown_with_its_thumbnail_faces_and_verdict(page, sheet):
    _, res = sheet
    assert sorted(visible_files(page)) == sorted(res)
    loaded = page.eval_on_selector_all(".thumb img", "imgs => imgs.map(i => i.complete && i.naturalWidth > 0)")
    assert loaded and all(loaded) and len(loaded) == len(res) - 1  # every photo but the broken one
    for name, r in res.items():
        card = page.locator(f'article.photo[data-file="{name}"]')
        assert card.locator(".box").count() == sum(not f.whole_image for f in r.faces)
        assert card.locator(".face").count() == len(r.faces)
        assert card.locator(".axis").count() == 3 * len(r.faces)
        verdict = card.locator(".verdict").inner_text()
        assert verdict.startswith(r.status.replace("_", " ") + ": ")


def test_the_reason_is_written_out_against_the_tolerance(page, sheet):
    _, res = sheet
    card = page.locator('article.photo[data-file="blurred.jpg"]')
    assert re.match(r"rejected: focus 0\.\d\d < 0\.50 on face 1", card.locator(".verdict").inner_text())
    focus = card.locator('.axis[data-axis="focus"]')
    assert "fail" in focus.get_attribute("class")
    fill = focus.locator(".fill").evaluate("e => e.style.width")
    assert float(fill.rstrip("%")) == pytest.approx(100 * res["blurred.jpg"].faces[0].scores.focus, abs=0.1)
    assert focus.locator(".tol").evaluate("e => e.style.left") == "50%"


def test_corrected_photos_show_the_face_before_and_after(page):
    card = page.locator('article.photo[data-file="dark.jpg"]')
    imgs = card.locator(".beforeafter img")
    assert imgs.count() == 3  # face before, face after, the corrected photo
    assert all(imgs.evaluate_all("imgs => imgs.map(i => i.naturalWidth > 0)"))
    assert card.locator(".beforeafter figcaption").all_inner_texts()[:2] == ["face 1 before", "after"]


def test_filter_by_verdict(page):
    for status in ("selected", "corrected", "no_face", "error"):
        page.uncheck(f'#filters input[value="{status}"]')
    assert sorted(visible_files(page)) == ["blurred.jpg"]
    assert page.inner_text("#shown") == f"1 of {len(EXPECTED_SHOOT) + 1} shown"
    page.check('#filters input[value="selected"]')
    assert sorted(visible_files(page)) == ["<b>odd & name.jpg", "astronaut.jpg", "blurred.jpg", "sub/hopper.jpg"]


def test_sort_by_lowest_score_and_by_verdict(page, sheet):
    _, res = sheet
    page.select_option("#sort", "score")
    order = visible_files(page)
    scores = [round(min((getattr(f.scores, a) for f in res[n].faces for a in ("focus", "noise", "lighting")),
                        default=-1), 4) for n in order]  # as on the page
    assert scores == sorted(scores) and order[0] == "broken.jpg"
    page.select_option("#sort", "status")
    assert [res[n].status for n in visible_files(page)][:2] == ["error", "rejected"]
