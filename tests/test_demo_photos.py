"""The demo photos of ``make demo``: made the same way every time, and showing every outcome."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from clairvoyance import Clairvoyance
from clairvoyance.types import STATUSES

from conftest import tree_hashes

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "make_demo_photos.py"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("make_demo_photos", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    a, b = tmp_path_factory.mktemp("demo_a"), tmp_path_factory.mktemp("demo_b")
    mod.main([str(a)])
    mod.main([str(b)])
    return a, b


def test_the_demo_photos_are_the_same_on_every_run(demo):
    a, b = demo
    assert tree_hashes(a) == tree_hashes(b)
    assert len([p for p in a.rglob("*.jpg")]) >= 12


def test_the_demo_shows_every_outcome_with_the_classical_model(demo):
    a, _ = demo
    res = Clairvoyance(model="classical", input_dir=a, dry_run=True).run(log=lambda m: None)
    assert {r.status for r in res.images} == set(STATUSES)
    assert res.skipped == ["notes.txt (not an image file)"]
    assert len(next(r for r in res.images if r.file == "group/two_people.jpg").faces) == 2

