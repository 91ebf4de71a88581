"""Average the weights of two quality models of one architecture (WiSE-FT, Wortsman et al. 2022).

A fine-tune and the model it started from lie in one basin of the loss: a point between them often
keeps what the fine-tune learned and what it forgot. A narrower A (the model a ``train-iqa --width``
run widened) is widened first, exactly as training did, so it can be averaged with its fine-tune.
For each ``--alpha`` (0 = model A, 1 = model B) the weights are interpolated, BatchNorm's
statistics are recomputed exactly on fixed training samples (as ``train-iqa`` does), and the
validation split is scored; the alpha with the best validation accuracy + Spearman (``train-iqa``'s
rule for its best epoch) is saved. The test split is never looked at.

Usage: python scripts/average_models.py A B --data DATA_DIR --out PATH [--alpha 0,0.25,0.5,0.75,1]
       [--name iqa-fast] [--version N]
"""
from __future__ import annotations

import argparse
import copy
from pathlib import Path

import numpy as np
import torch

from clairvoyance.scoring import get_model
from clairvoyance.scoring.cnn import save_model
from clairvoyance.training import metrics
from clairvoyance.training.dataset import Crops
from clairvoyance.training.train_iqa import bn_set, fixed_set, precise_bn, predict_arrays
from clairvoyance.training.widen import widen
from clairvoyance.types import AXES


def interpolate(a: dict, b: dict, alpha: float) -> dict:
    """(1 - alpha) * a + alpha * b for float tensors of one architecture; counters (BN's batch
    count) are taken from b."""
    return {k: torch.lerp(a[k], b[k], alpha) if a[k].is_floating_point() else b[k] for k in a}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--alpha", default="0,0.25,0.5,0.75,1", help="comma-separated weights of B to try")
    ap.add_argument("--val-variants", type=int, default=20)
    ap.add_argument("--seed", type=int, default=5, help="seed of the validation degradations")
    ap.add_argument("--bn-samples", type=int, default=512)
    ap.add_argument("--name", default=None, help="name to save under (default: B's)")
    ap.add_argument("--version", default=None, help="version to save under (default: B's)")
    o = ap.parse_args()
    ma, mb = get_model(o.a), get_model(o.b)
    width_a, width_b = getattr(ma.net, "width", None), getattr(mb.net, "width", None)
    if ma.meta.get("arch") == mb.meta.get("arch") and width_a is not None and width_b is not None and width_a < width_b:
        # a model and its widened fine-tune: A widened first scores as A did (training.widen)
        torch.manual_seed(o.seed)  # the new channels' random inputs, reproducibly
        ma.net, _ = widen(ma.net, ma.meta["arch"], ma.meta.get("config", {}), width_b)
        ma.meta = {**ma.meta, "config": mb.meta.get("config", {})}
    if ma.meta.get("arch") != mb.meta.get("arch") or ma.meta.get("config", {}) != mb.meta.get("config", {}):
        raise SystemExit("the two models differ in architecture: cannot average them")
    train, val = Crops.load(o.data, "train"), Crops.load(o.data, "val")
    bn_x, bn_n = bn_set(train, o.bn_samples, o.seed + 1)
    val_x, val_y, val_n = fixed_set(val.images, o.val_variants, o.seed, val.natives)
    sa, sb = ma.net.state_dict(), mb.net.state_dict()
    best = None
    for alpha in (float(s) for s in o.alpha.split(",")):
        net = copy.deepcopy(mb.net)
        net.load_state_dict(interpolate(sa, sb, alpha))
        precise_bn(net, bn_x, bn_n, "cpu")
        vm = metrics.iqa_metrics(predict_arrays(net, val_x, val_n, "cpu"), val_y)
        score = float(np.mean([vm[a]["accuracy"] + vm[a]["spearman"] for a in AXES]))
        print(f"alpha {alpha:.2f}: val {metrics.summary_line(vm)} | verdict acc {vm['verdict']['accuracy']:.3f} "
              f"| rule {score:.4f}", flush=True)
        if best is None or score > best[0]:
            best = (score, alpha, net, vm)
    score, alpha, net, vm = best
    save_model(net, mb.meta["arch"], mb.meta.get("config", {}), o.out, o.name or mb.name, o.version or mb.version,
               trained={"averaged": [str(o.a), str(o.b)], "alpha": alpha, "val": vm, "data": str(o.data)})
    print(f"saved alpha {alpha:.2f} (best validation rule {score:.4f}) to {o.out}")


if __name__ == "__main__":
    main()
