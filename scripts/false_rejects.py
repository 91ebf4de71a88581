"""Which good faces does a quality model throw away, and what had been done to them?

Rebuilds eval-iqa's synthetic set of a split (same seed, same samples) with the degradations each
sample went through, and for every model lists its false rejects (faces labelled good on every axis,
predicted below the tolerance on one): the failing axes, labels, predictions, native size and the
synthetic steps, then counts them by axis and by step.

With ``--by-step``, also each axis's good/bad accuracy on the samples that went through each step,
and the median ratio of predicted to labelled strength there (``scale.strength_from_score``, on
samples labelled 0.5-3x the edge): a step whose ratio sits far from 1 is one whose label and model
disagree systematically (how motion blur's overstated label was found: 0.65); and the spread of that
log ratio (as ``--precision`` measures it): a step whose spread is wide is one the model measures
coarsely.

With ``--near-edge``, also how many of each axis's errors are on samples labelled near the edge.

With ``--without STEP`` (repeatable), also each axis's accuracy on the samples that went through
none of those steps (``--without soft_source --without sharpen``: the degradations the issue names,
without the ones the ladder added for real photos).

With ``--precision``, also how precisely the model measures each axis's strength near the edge (the
spread of log(predicted / labelled strength) on samples labelled 0.5-3x the edge strength) and what
accuracy that precision buys on this ladder: each label's strength is scattered by a log-normal error
of a given spread, the verdicts are counted, and the spread at which accuracy would reach 95% is
found. It turns "accuracy 0.93 against 0.95" into how much finer the measurement must become.
Last, the same bias-free models judged as photos (all three axes, the default verdict rule): the
share of good faces they would reject, and the precision a false-reject rate of 3% of the good
faces would need (``simulated_false_rejects``).

With ``--by-face``, also each axis's errors per face and the model's median bias (prediction minus
label) on that face's mid-range labels (0.3-0.8), beside its score on the face undegraded and a
model-free sharpness (how much gradient energy a 1 px blur leaves), with the rank correlations of
the bias with both: a bias that follows the model's own clean score and nothing measurable is the
network judging each face's content, not label noise from a soft source. Last, the accuracy with
each face's bias taken away, an oracle that bounds what removing the per-face pattern could gain.

Usage: python scripts/false_rejects.py DATA_DIR [--model NAME|PATH ...] [--split test] [--variants 20] [--by-step]
       [--near-edge] [--precision] [--by-face] [--without STEP ...]
"""
from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from scipy.stats import spearmanr

from clairvoyance import degrade, scale, verdict
from clairvoyance.scoring import default_model_name, get_model
from clairvoyance.training.dataset import Crops
from clairvoyance.training.train_iqa import fixed_set
from clairvoyance.types import AXES


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--model", action="append", help="model name or file (repeatable); default: the default")
    ap.add_argument("--split", default="test")
    ap.add_argument("--variants", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1, help="eval-iqa's seed (default 1)")
    ap.add_argument("--tolerance", type=float, default=0.5)
    ap.add_argument("--by-step", action="store_true", help="accuracy and strength bias per axis and step")
    ap.add_argument("--near-edge", action="store_true", help="how many of each axis's errors sit near the edge")
    ap.add_argument("--precision", action="store_true",
                    help="each axis's strength-measurement spread near the edge, and the spread 95%% needs")
    ap.add_argument("--by-face", action="store_true", help="errors and bias per face, and what the bias follows")
    ap.add_argument("--without", action="append", default=[], metavar="STEP",
                    help="also the accuracy on samples that went through none of these steps (repeatable)")
    a = ap.parse_args()
    crops = Crops.load(a.data_dir, a.split)
    steps: list[list[str]] = []
    x, y, natives = fixed_set(crops.images, a.variants, a.seed, crops.natives, steps)
    good = (y >= a.tolerance).all(1)
    print(f"{a.split} split: {len(y)} samples, {int(good.sum())} good on every axis")
    for name in a.model or [default_model_name()]:
        m = get_model(name)
        p = m.predict_array(x, batch=64, native_sizes=natives)
        rejected = good & (p < a.tolerance).any(1)
        by_axis, by_step = Counter(), Counter()
        print(f"## {m.label}: {int(rejected.sum())} false rejects ({rejected.sum() / max(good.sum(), 1):.3f})")
        for i in np.flatnonzero(rejected):
            axes = [ax for j, ax in enumerate(AXES) if p[i, j] < a.tolerance]
            by_axis.update(axes)
            by_step.update(steps[i])
            print(f"  {'+'.join(axes):16s} label {np.round(y[i], 2)} pred {np.round(p[i], 2)} "
                  f"native {natives[i]:3d}  {' '.join(steps[i])}")
        print("  by axis:", dict(by_axis.most_common()), " by step:", dict(by_step.most_common()))
        if a.by_step:
            by_step_table(p, y, steps, a.tolerance)
        if a.near_edge:
            near_edge_table(p, y, a.tolerance)
        if a.precision:
            precision_table(p, y, a.tolerance)
        if a.without:
            keep = np.array([not set(done) & set(a.without) for done in steps])
            right = (p[keep] >= a.tolerance) == (y[keep] >= a.tolerance)
            print(f"  without {' '.join(a.without)}: {int(keep.sum())} samples, accuracy "
                  + " / ".join(f"{ax} {right[:, j].mean():.3f}" for j, ax in enumerate(AXES)))
        if a.by_face:
            by_face_table(p, y, m.predict_array(crops.images, batch=64, native_sizes=crops.natives), crops,
                          a.tolerance)


def by_step_table(p: np.ndarray, y: np.ndarray, steps: list[list[str]], tolerance: float) -> None:
    """Per axis and step: samples, good/bad accuracy, false rejects and false accepts (labelled
    good and predicted bad, and the reverse: which way a step's errors lean), median
    predicted/labelled strength and the spread of its log (``_spread``)."""
    names = sorted({s for done in steps for s in done})
    for j, axis in enumerate(AXES):
        print(f"  {axis}: step, samples, accuracy, false rejects, false accepts, median predicted/labelled strength,"
              " spread of their log ratio")
        for name in names:
            idx = np.array([i for i, done in enumerate(steps) if name in done])
            good_p, good_y = p[idx, j] >= tolerance, y[idx, j] >= tolerance
            right = good_p == good_y
            lab, pred = _strengths(axis, y[idx, j]), _strengths(axis, p[idx, j])
            near = _near_edge(axis, lab)
            ratio, spread = ((f"{np.median(pred[near] / lab[near]):.2f}", f"{_spread(pred[near], lab[near]):.2f}")
                             if near.sum() >= 5 else ("-", "-"))
            print(f"    {name:16s} {len(idx):4d}  {right.mean():.3f}  {int((good_y & ~good_p).sum()):3d}"
                  f"  {int((good_p & ~good_y).sum()):3d}  {ratio}  {spread}")


def by_face_table(p: np.ndarray, y: np.ndarray, clean: np.ndarray, crops: Crops, tolerance: float) -> None:
    """Per axis and face (fixed_set's samples cycle through the faces): errors, median bias on
    mid-range labels, the model's score on the face undegraded; then the bias's rank correlation
    with that score and with a model-free sharpness."""
    n = len(crops.images)
    face = np.arange(len(y)) % n
    sharp = np.array([degrade.reblur_ratio(c) for c in crops.images])
    for j, axis in enumerate(AXES):
        wrong = (p[:, j] >= tolerance) != (y[:, j] >= tolerance)
        mid = (y[:, j] > 0.3) & (y[:, j] < 0.8)
        bias = np.array([np.median((p - y)[(face == k) & mid, j]) if ((face == k) & mid).any() else 0.0
                         for k in range(n)])
        errors = np.bincount(face[wrong], minlength=n)
        print(f"  {axis}: errors, median bias on labels 0.3-0.8, score undegraded, face (most errors first)")
        for k in np.argsort(-errors, kind="stable")[:10]:
            print(f"    {errors[k]:3d}  {bias[k]:+.3f}  {clean[k, j]:.2f}  {crops.rows[k]['crop']}")
        print(f"    bias vs score undegraded: Spearman {spearmanr(bias, clean[:, j]).statistic:+.2f}; "
              f"vs model-free sharpness: {spearmanr(bias, sharp).statistic:+.2f}")
        unbiased = (p[:, j] - bias[face] >= tolerance) == (y[:, j] >= tolerance)
        print(f"    accuracy {1 - wrong.mean():.3f}; with each face's bias taken away {unbiased.mean():.3f} "
              "(an oracle: the most a per-face correction could gain)")


def near_edge_table(p: np.ndarray, y: np.ndarray, tolerance: float) -> None:
    """Per axis: good/bad errors, how many of them are labelled within 0.05 and 0.1 of the edge, and
    the error rate beyond 0.1 (where a label is clearly good or bad): near the edge a small
    network's error decides, far from it a wrong verdict is a real miss."""
    print("  axis: errors, labelled within 0.05 / 0.1 of the edge (samples there), error rate beyond 0.1")
    for j, axis in enumerate(AXES):
        wrong = (p[:, j] >= tolerance) != (y[:, j] >= tolerance)
        d = np.abs(y[:, j] - tolerance)
        print(f"    {axis:9s} {int(wrong.sum()):4d}  {int((wrong & (d < 0.05)).sum())} ({int((d < 0.05).sum())})"
              f" / {int((wrong & (d < 0.1)).sum())} ({int((d < 0.1).sum())})  {wrong[d >= 0.1].mean():.3f}")


def _strengths(axis: str, scores: np.ndarray) -> np.ndarray:
    return np.array([scale.strength_from_score(axis, v) for v in scores])


def _near_edge(axis: str, labelled: np.ndarray) -> np.ndarray:
    """Samples labelled 0.5-3x the edge strength: where a model's measurement, not the label's
    distance from the edge, decides the verdict."""
    x50 = scale.CURVES[axis][0]
    return (labelled > 0.5 * x50) & (labelled < 3 * x50)


def _spread(predicted: np.ndarray, labelled: np.ndarray) -> float:
    """Spread of log(predicted / labelled strength), as a normal's standard deviation (median
    absolute value / 0.674, so a few wild misses do not dominate it)."""
    return float(np.median(np.abs(np.log(np.maximum(predicted, 1e-6) / labelled)))) / 0.674


def _scattered(axis: str, labels: np.ndarray, spread: float, rng: np.random.Generator) -> np.ndarray:
    """Strengths of ``labels`` as a model would read them whose estimate is each label's strength
    times exp(N(0, ``spread``)): as precise everywhere as ``spread`` says, with no bias."""
    return _strengths(axis, labels) * np.exp(rng.normal(0.0, spread, len(labels)))


def simulated_accuracy(axis: str, labels: np.ndarray, spread: float, tolerance: float, draws: int = 20) -> float:
    """Good/bad accuracy on ``labels`` of a model that reads strengths as ``_scattered`` does."""
    rng = np.random.default_rng(0)
    edge = scale.strength_from_score(axis, tolerance)
    good = labels >= tolerance
    return float(np.mean([((_scattered(axis, labels, spread, rng) <= edge) == good).mean() for _ in range(draws)]))


def simulated_false_rejects(labels: np.ndarray, spreads: Sequence[float], tolerance: float,
                            rule: str = verdict.DEFAULT_RULE, draws: int = 10) -> tuple[float, float]:
    """Under ``rule``, the share of faces labelled good that a model reading every axis as
    ``_scattered`` does (each axis at its own spread) rejects, and those rejects as a share of all
    faces: what a measurement that precise costs good faces on these labels."""
    rng = np.random.default_rng(0)
    good = verdict.passes(labels, (tolerance,) * 3, rule)
    out = []
    for _ in range(draws):
        read = np.stack([[scale.score_from_strength(axis, v) for v in _scattered(axis, labels[:, j], spreads[j], rng)]
                         for j, axis in enumerate(AXES)], 1)
        out.append((good & ~verdict.passes(read, (tolerance,) * 3, rule)).sum())
    rejected = float(np.mean(out))
    return rejected / max(int(good.sum()), 1), rejected / max(len(labels), 1)


def precision_table(p: np.ndarray, y: np.ndarray, tolerance: float, target: float = 0.95,
                    rejects: float = 0.03) -> None:
    """Per axis: the model's spread of log(predicted / labelled strength) near the edge
    (``_spread``), the accuracy a model with that spread and no bias would have on these labels,
    and the spread at which it would reach ``target``. Then, under the default verdict rule, the
    good faces such bias-free models would reject (at the model's spreads, and at the spreads that
    just reach ``target``), and the one spread, on every axis, at which they reject only
    ``rejects`` of the good faces: whether the accuracy and false-reject targets ask for the same
    precision."""
    print(f"  axis: accuracy; strength spread near the edge (x factor); accuracy at that spread; spread for {target:.0%}")
    own, needed = [], []
    for j, axis in enumerate(AXES):
        lab, pred = _strengths(axis, y[:, j]), _strengths(axis, p[:, j])
        near = _near_edge(axis, lab)
        right = ((p[:, j] >= tolerance) == (y[:, j] >= tolerance)).mean()
        if not near.any():
            print(f"    {axis:9s} {right:.3f}; no samples labelled near the edge")
            continue
        spread = _spread(pred[near], lab[near])
        lo = _bisect(lambda s: simulated_accuracy(axis, y[:, j], s, tolerance) >= target)
        own.append(spread)
        needed.append(lo)
        print(f"    {axis:9s} {right:.3f}; {spread:.3f} (x{np.exp(spread):.2f}); "
              f"{simulated_accuracy(axis, y[:, j], spread, tolerance):.3f}; {lo:.3f} (x{np.exp(lo):.2f})")
    if len(own) < len(AXES):
        return
    rule = verdict.DEFAULT_RULE
    good = int(verdict.passes(y, (tolerance,) * 3, rule).sum())
    print(f"  bias-free models under `{rule}`: good faces rejected (share of the {good} good; of all {len(y)})")
    for name, spreads in (("at the model's spreads", own), (f"at the spreads for {target:.0%}", needed)):
        frr, share = simulated_false_rejects(y, spreads, tolerance, rule)
        print(f"    {name:24s} {frr:.3f}; {share:.3f}")
    same = _bisect(lambda s: simulated_false_rejects(y, (s,) * 3, tolerance, rule)[0] <= rejects)
    accs = " / ".join(f"{simulated_accuracy(axis, y[:, j], same, tolerance):.3f}" for j, axis in enumerate(AXES))
    print(f"    one spread on every axis that rejects {rejects:.0%} of the good: {same:.3f} (x{np.exp(same):.2f}),"
          f" where accuracy would be {accs}")


def _bisect(ok: Callable[[float], bool], steps: int = 12) -> float:
    """The largest spread in [0, 1] for which ``ok`` holds, when it holds below some spread and not above."""
    lo, hi = 0.0, 1.0
    for _ in range(steps):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


if __name__ == "__main__":
    main()
