"""The assisted-labelling loop closes: labels saved in the studio fine-tune the shipped model with
`clairvoyance train-iqa --labels labels.sqlite --init iqa`."""
from __future__ import annotations

from click.testing import CliRunner
from fastapi.testclient import TestClient

from clairvoyance.cli import main
from clairvoyance.scoring import WEIGHTS_DIR
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
    # fine-tuned from the shipped iqa (its architecture), not trained from scratch
    assert tuned.meta["arch"] == CNNModel.from_file(WEIGHTS_DIR / "iqa.pt").meta["arch"]


def test_human_labels_on_held_out_crops_are_never_trained_on(tmp_path):
    """A label on a validation or test crop must not leak it into training."""
    import csv

    import cv2
    from skimage import data

    from clairvoyance.training import dataset
    from clairvoyance.training.train_iqa import TrainOptions, train

    out = tmp_path / "data"
    (out / "crops").mkdir(parents=True)
    img = cv2.resize(data.astronaut()[30:230, 150:350], (256, 256))
    rows = []
    for i, split in enumerate(["train", "val", "test"]):
        name = f"crops/a{i}.png"
        cv2.imwrite(str(out / name), img[:, :, ::-1])
        rows.append({"crop": name, "source": f"a{i}.png", "group": f"a{i}", "x": 0, "y": 0, "w": 256, "h": 256,
                     "native": 256, "split": split})
    dataset.write_manifest(out, rows)
    labels = tmp_path / "labels.csv"
    with open(labels, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "focus", "noise", "lighting"])
        for r in rows:
            w.writerow([r["crop"], 0.2, 0.9, 0.9])
    logs = []
    train(TrainOptions(data=str(out), out=str(tmp_path / "run"), arch="seed", epochs=1, samples_per_crop=1,
                       batch=1, workers=0, val_variants=1, labels=str(labels)), log=logs.append)
    assert any("1 human-labelled crops" in m and "2 labels on validation/test crops left out" in m for m in logs)
