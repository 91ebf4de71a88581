"""Is a quality model short of features, or of information the pixels do not carry?

Draws ladder samples of the training split (``--train-variants`` per crop, seed 7) and eval-iqa's
samples of the test split (``--variants`` per crop, seed 1: the same samples as ``eval-iqa``), and
keeps what the model's head reads for each (``head_input``). Then, per axis, it refits a fresh head
(two layers, the training loss) on the training samples' features and reports test accuracy:

* ``model``: the model's own head, as shipped;
* ``refit``: a head refitted on the features alone, the baseline for what follows;
* ``+ STEP`` for each ``--give STEP``: the same with one more input, whether the sample went
  through that step of ``synth.sample`` (``sharpen``, ``soft_source``, ...): information about its
  history that a perfect detector would read from the pixels;
* ``+ source`` (``--give source``): the clean source face's mean linear luminance, model-free
  sharpness (``degrade.reblur_ratio``) and native size, which the labels are relative to but the
  degraded pixels hide;
* ``+ labels`` (``--give labels``): the sample's two other labels (the axis's own is hidden);
* ``+ sharpness`` (``--give sharpness``): hand-made multi-scale sharpness statistics of the degraded
  face (``sharpness_statistics``), the classic measures of blur: whether the network's features
  already carry what they say.

A gain from ``+ STEP`` says the features miss something the backbone could learn to see (train it
to: ``train-iqa --aux-step STEP``); a gain from ``+ source`` is information no model can have. The
refit heads use a fixed set of training samples, so compare them with ``refit``, not with ``model``.
Last, for each STEP given, how often a linear read-out of the features (logistic regression fitted
on the training samples) tells the test samples that went through it, beside always guessing the
commoner answer: what the features already carry of that step.

Usage: python scripts/probe_head.py DATA_DIR [--model NAME|PATH] [--train-variants 100] [--variants 100]
       [--give STEP|source|labels|sharpness ...] [--epochs 30]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from clairvoyance import degrade
from clairvoyance.scoring import default_model_name, get_model
from clairvoyance.scoring.cnn import to_tensor
from clairvoyance.training import metrics, synth
from clairvoyance.training.dataset import Crops
from clairvoyance.training.train_iqa import edge_weighted_loss, fixed_set
from clairvoyance.types import AXES


#: Blur sigmas (px) at which ``sharpness_statistics`` measures how much gradient energy a blur leaves.
REBLUR_SIGMAS = (0.6, 0.85, 1.2, 1.7, 2.4, 3.4)


def sharpness_statistics(img: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Classic blur measures of a face: the log gradient energy, and for each of ``REBLUR_SIGMAS``
    the log share of it that a Gaussian blur of that sigma leaves (re-blur ratios: near 1 for a
    soft face), averaged over the face (``weight``), over its edges (weighted by the gradient energy
    left at 1.7 px, so grain counts less) and over its strongest edges (that energy squared)."""
    lum = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)

    def energy(a: np.ndarray) -> np.ndarray:
        return cv2.Sobel(a, cv2.CV_32F, 1, 0) ** 2 + cv2.Sobel(a, cv2.CV_32F, 0, 1) ** 2

    e0 = energy(lum)
    left = {s: energy(cv2.GaussianBlur(lum, (0, 0), s)) for s in REBLUR_SIGMAS}
    edges = weight * left[1.7]
    out = [np.log((weight * e0).sum() / weight.sum() + 1e-6)]
    for s in REBLUR_SIGMAS:
        out += [np.log(((w * left[s]).sum() + 1e-6) / ((w * e0).sum() + 1e-6))
                for w in (weight, edges, edges * left[1.7])]
    return np.array(out, np.float32)


def cache(net: torch.nn.Module, crops: Crops, variants: int, seed: int, batch: int = 64) -> dict[str, np.ndarray]:
    """Head inputs, labels, steps and source statistics of ``variants`` ladder samples per crop."""
    mask = degrade.face_mask(256) > 0.5
    source = []
    for img, native in zip(crops.images, crops.natives):
        lum = degrade.srgb_to_linear(img) @ degrade.LUMA
        source.append([np.log(lum[mask].mean() + 1e-6), degrade.reblur_ratio(img), np.log2(min(int(native), 256) / 256)])
    feats, labs, steps, sharpness = [], [], [], []
    per = max(1, batch // max(len(crops.images), 1))  # whole variants of every crop at a time
    for v in range(0, variants, per):  # eval-iqa's set, a slice at a time: the whole would not fit in memory
        x, y, natives = fixed_set(crops.images, min(per, variants - v), seed, crops.natives, steps, first=v)
        with torch.no_grad():
            feats.append(net.head_input(to_tensor(x), torch.as_tensor(natives, dtype=torch.float32)).numpy())
        labs.append(y)
        sharpness += [sharpness_statistics(img, mask.astype(np.float32)) for img in x]
    k = np.arange(len(steps)) % len(crops.images)
    return {"feats": np.concatenate(feats), "labs": np.concatenate(labs), "steps": steps,
            "source": np.array(source, np.float32)[k], "sharpness": np.array(sharpness)}


def inputs(d: dict, give: str | None, axis: int) -> np.ndarray:
    if give is None:
        return d["feats"]
    if give in ("source", "sharpness"):
        extra = d[give]
    elif give == "labels":
        extra = np.delete(d["labs"], axis, 1)
    else:
        extra = np.array([[give in s] for s in d["steps"]], np.float32)
    return np.concatenate([d["feats"], extra], 1)


def refit(train: dict, test: dict, give: str | None, epochs: int) -> np.ndarray:
    """Test predictions (focus, noise, lighting) of a fresh head per axis, fitted on ``train``'s
    features (plus ``give``)."""
    out = []
    for axis in range(3):
        torch.manual_seed(0)
        xt, xe = inputs(train, give, axis), inputs(test, give, axis)
        mu, sd = xt.mean(0), xt.std(0) + 1e-6
        xt, xe = (torch.from_numpy(((x - mu) / sd).astype(np.float32)) for x in (xt, xe))
        yt = torch.from_numpy(train["labs"][:, axis:axis + 1])
        head = torch.nn.Sequential(torch.nn.Dropout(0.1), torch.nn.Linear(xt.shape[1], 128), torch.nn.LeakyReLU(0.01),
                                   torch.nn.Linear(128, 1))
        opt = torch.optim.Adam(head.parameters(), 1e-3, weight_decay=1e-5)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
        for _ in range(epochs):
            head.train()
            for b in torch.randperm(len(xt)).split(256):
                loss = edge_weighted_loss(torch.sigmoid(head(xt[b])), yt[b], 2.0)
                opt.zero_grad()
                loss.backward()
                opt.step()
            sched.step()
        head.eval()
        with torch.no_grad():
            out.append(torch.sigmoid(head(xe)).numpy()[:, 0])
    return np.stack(out, 1)


def read_out(train: dict, test: dict, step: str) -> tuple[float, float]:
    """Test accuracy of a linear read-out of ``step`` from the features, and of the commoner answer."""
    yt, ye = (np.array([step in s for s in d["steps"]], np.float32) for d in (train, test))
    mu, sd = train["feats"].mean(0), train["feats"].std(0) + 1e-6
    xt, xe = (torch.from_numpy(((d["feats"] - mu) / sd).astype(np.float32)) for d in (train, test))
    torch.manual_seed(0)
    lin = torch.nn.Linear(xt.shape[1], 1)
    opt = torch.optim.LBFGS(lin.parameters(), max_iter=300)
    target = torch.from_numpy(yt)

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(lin(xt)[:, 0], target) + 1e-4 * (lin.weight**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        said = (lin(xe)[:, 0] > 0).numpy()
    return float((said == (ye > 0.5)).mean()), float(max(ye.mean(), 1 - ye.mean()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--model", default=None, help="model name or file (default: the default)")
    ap.add_argument("--train-variants", type=int, default=100)
    ap.add_argument("--variants", type=int, default=100)
    ap.add_argument("--give", action="append", default=[], choices=[*synth.STEPS, "source", "labels", "sharpness"])
    ap.add_argument("--epochs", type=int, default=30)
    a = ap.parse_args()
    model = get_model(a.model or default_model_name())
    net = model.net.eval()
    if not hasattr(net, "head_input"):
        raise SystemExit(f"{a.model}: its architecture has no feature head to refit")
    train = cache(net, Crops.load(a.data_dir, "train"), a.train_variants, 7)
    test = cache(net, Crops.load(a.data_dir, "test"), a.variants, 1)
    with torch.no_grad():
        own = torch.sigmoid(net.head(torch.from_numpy(test["feats"]))).numpy()
    rows = [("model", own), ("refit", refit(train, test, None, a.epochs))]
    rows += [(f"+ {g}", refit(train, test, g, a.epochs)) for g in a.give]
    print(f"{model.name}@{model.version}: {len(train['labs'])} training samples, {len(test['labs'])} test samples")
    print(f"{'head':16s}" + "".join(f"{ax:>10s}" for ax in AXES))
    for name, pred in rows:
        m = metrics.iqa_metrics(pred, test["labs"])
        print(f"{name:16s}" + "".join(f"{m[ax]['accuracy']:10.3f}" for ax in AXES))
    for step in (g for g in a.give if g in synth.STEPS):
        told, guess = read_out(train, test, step)
        print(f"a linear read-out of the features tells {step} {told:.3f} of the time (the commoner answer: {guess:.3f})")


if __name__ == "__main__":
    main()
