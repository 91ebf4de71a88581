"""The assisted-labelling loop closes: labels saved in the studio fine-tune the shipped model with
`clairvoyance train-iqa --labels labels.sqlite --init iqa`."""
from __future__ import annotations

from click.testing import CliRunner
from fastapi.testclient import TestClient

from clairvoyance.cli import main
from clairvoyance.scoring.cnn import CNNModel
from clairvoyance.web import create_app

from webutil import make_dataset


def test_studio_labels_fine_tune_the_shipped_model(tmp_path):
    data = make_dataset(tmp_path / "data")
    db = tmp_path / "labels.sqlite"
    with TestClient(create_app(None, db, data_dir=data, model="classical")) as c:
        for f in ("crops/person0_clean.png", "crops/person1_blurred.png", "crops/person3_dark.png"):
            assert c.put("/api/labels", json={"file": f, "focus": 0.2, "noise": 0.9, "lighting": 0.7,
                                              "who": "ana"}).status_code == 200
    out = tmp_path / "run"
    r = CliRunner().invoke(main, ["train-iqa", "--data", str(data), "--labels", str(db), "--init", "iqa",
                                  "--epochs", "1", "--samples-per-crop", "1", "--batch", "4", "--workers", "0",
                                  "--lr", "1e-4", "--out", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    assert "3 human-labelled crops" in r.stderr  # found through the dataset folder, by manifest path
    tuned = CNNModel.from_file(r.stdout.strip())
    assert tuned.meta["arch"] == "hf"  # fine-tuned from the shipped iqa, not trained from scratch
