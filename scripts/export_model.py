"""Export a train-iqa run as a shippable, named model file.

``train-iqa`` keeps ``best.pt`` (the epoch its small validation set liked best) and ``last.pt`` (a
resumable checkpoint of the last epoch). Either can be the one to ship once a larger validation set
(``clairvoyance eval-iqa DATA --split val``) has decided; this writes it under the name and version
that ``--model NAME`` loads, with the epoch and its validation figures.

Usage: python scripts/export_model.py RUN_DIR --epoch best|last --name iqa-fast --version 5 --out clairvoyance/weights/iqa-fast.pt
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from clairvoyance.scoring import archs
from clairvoyance.scoring.cnn import CNNModel, save_model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run", type=Path)
    ap.add_argument("--epoch", choices=["best", "last"], default="best")
    ap.add_argument("--name", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    if a.epoch == "best":
        m = CNNModel.from_file(str(a.run / "best.pt"))
        net, arch, config, trained = m.net, m.meta["arch"], m.meta.get("config", {}), m.meta.get("trained", {})
    else:
        opt = json.loads((a.run / "options.json").read_text())
        state = torch.load(a.run / "last.pt", map_location="cpu", weights_only=False)
        # checkpoints name their network; older ones only had the options (a width given by --width)
        arch = state.get("arch", opt["arch"])
        config = state.get("config", {**opt.get("config", {}), **({"width": opt["width"]} if opt.get("width") else {})})
        net = archs.build(arch, **config)
        net.load_state_dict(state["net"])
        last = state["history"][-1]
        trained = {"epoch": last["epoch"], "val": last["val"], "data": opt["data"]}
    save_model(net, arch, config, a.out, a.name, a.version, trained=trained)
    print(f"{a.out}: {a.name} version {a.version}, {arch}, epoch {trained.get('epoch')}")


if __name__ == "__main__":
    main()
