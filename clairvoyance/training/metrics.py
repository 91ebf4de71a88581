"""IQA metrics, as in the 2018 report's Figures 10-12, plus rank correlation.

* good/bad accuracy at a tolerance: prediction and label on the same side of it, per axis;
* within-10%: |prediction - label| < 0.1;
* Spearman rank correlation per axis;
* deciding accuracy: the good/bad accuracy of an axis on the samples whose other axes are labelled
  good, where this axis alone decides (under ``per-axis``) whether the face is kept; elsewhere the
  face is rejected whatever this axis says (a focus call on a face two stops dark and full of grain);
* on the face verdict: the 2x2 confusion matrix and the false-reject rate, the share of truly good
  faces that the model would throw away. ``verdict`` uses the product's rule (``budget``: losses on
  the axes add up), ``verdict_per_axis`` the 2018 report's (every axis >= tolerance); see
  ``clairvoyance.verdict``.
"""
from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from .. import verdict
from ..types import AXES


def iqa_metrics(pred: np.ndarray, label: np.ndarray, tolerance: float = 0.5) -> dict:
    pred, label = np.asarray(pred, float), np.asarray(label, float)
    out: dict = {"n": int(len(pred))}
    for j, a in enumerate(AXES):
        p, l = pred[:, j], label[:, j]
        rho = spearmanr(p, l).statistic if np.ptp(l) > 0 and np.ptp(p) > 0 else 0.0
        out[a] = {
            "accuracy": float(np.mean((p >= tolerance) == (l >= tolerance))),
            "within10": float(np.mean(np.abs(p - l) < 0.1)),
            "spearman": float(rho),
            "mae": float(np.mean(np.abs(p - l))),
            "false_reject": _frr(p >= tolerance, l >= tolerance),
        }
        others = (np.delete(label, j, axis=1) >= tolerance).all(1)
        right = (p >= tolerance) == (l >= tolerance)
        out[a]["deciding_accuracy"] = float(right[others].mean()) if others.any() else None
        out[a]["deciding_n"] = int(others.sum())
    tol = (tolerance,) * len(AXES)
    out["verdict"] = _verdict(verdict.passes(pred, tol, "budget"), verdict.passes(label, tol, "budget"))
    out["verdict_per_axis"] = _verdict(verdict.passes(pred, tol, "per-axis"), verdict.passes(label, tol, "per-axis"))
    return out


def accuracy_interval(pred: np.ndarray, label: np.ndarray, groups: np.ndarray, tolerance: float = 0.5,
                      level: float = 0.95, resamples: int = 2000, seed: int = 0) -> dict[str, list[float]]:
    """A bootstrap interval of each axis's good/bad accuracy and the verdict's, resampling whole crops
    (``groups``: each sample's crop), since a test split of a few dozen faces is the figure's main
    uncertainty: samples of one face are not independent."""
    pred, label = np.asarray(pred, float), np.asarray(label, float)
    _, g = np.unique(groups, return_inverse=True)
    tol = (tolerance,) * len(AXES)
    right = {a: (pred[:, j] >= tolerance) == (label[:, j] >= tolerance) for j, a in enumerate(AXES)}
    right["verdict"] = verdict.passes(pred, tol, "budget") == verdict.passes(label, tol, "budget")
    size = np.bincount(g).astype(float)
    picks = np.random.default_rng(seed).integers(0, len(size), (resamples, len(size)))
    out = {}
    for k, r in right.items():
        per_crop = np.bincount(g, weights=r.astype(float), minlength=len(size))
        acc = per_crop[picks].sum(1) / size[picks].sum(1)
        out[k] = [float(q) for q in np.quantile(acc, [(1 - level) / 2, (1 + level) / 2])]
    return out


def _verdict(good_p: np.ndarray, good_l: np.ndarray) -> dict:
    n = max(len(good_p), 1)
    return {
        "accuracy": float(np.mean(good_l == good_p)),
        # percentages of all faces, laid out as the report's Figure 12: rows predicted, columns label
        "confusion": {"pred_good_label_good": 100 * float(np.sum(good_p & good_l)) / n,
                      "pred_good_label_bad": 100 * float(np.sum(good_p & ~good_l)) / n,
                      "pred_bad_label_good": 100 * float(np.sum(~good_p & good_l)) / n,
                      "pred_bad_label_bad": 100 * float(np.sum(~good_p & ~good_l)) / n},
        "false_reject": _frr(good_p, good_l),
    }


def _frr(pred_good: np.ndarray, label_good: np.ndarray) -> float:
    g = label_good.sum()
    return float(np.sum(label_good & ~pred_good) / g) if g else 0.0


def summary_line(m: dict) -> str:
    return " | ".join(f"{a[:5]} acc {m[a]['accuracy']:.3f} w10 {m[a]['within10']:.3f} rho {m[a]['spearman']:.3f}"
                      for a in AXES) + f" | FRR {m['verdict']['false_reject']:.3f}"


def plot_curves(history: list[dict], path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(1, 3, figsize=(15, 4))
    ep = [h["epoch"] for h in history]
    for ax, key, title in zip(axs, ("accuracy", "within10", "spearman"),
                              ("good/bad accuracy @0.5 (Fig. 10)", "within 10% of label (Fig. 11)", "Spearman")):
        for a, c in zip(AXES, ("C0", "C1", "C2")):
            ax.plot(ep, [h["train"][a][key] for h in history], c + "--", label=f"{a} train")
            ax.plot(ep, [h["val"][a][key] for h in history], c + "-", label=f"{a} val")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axs[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_confusion(m: dict, path, title: str = "test") -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = m["verdict"]["confusion"]
    mat = np.array([[c["pred_good_label_good"], c["pred_good_label_bad"]],
                    [c["pred_bad_label_good"], c["pred_bad_label_bad"]]])
    fig, ax = plt.subplots(figsize=(4, 3.5))
    ax.imshow(mat, cmap="Blues")
    for i in range(2):
        for j in range(2):
            ax.text(j, i, f"{mat[i, j]:.1f}%", ha="center", va="center", color="white" if mat[i, j] > 50 else "black")
    ax.set_xticks([0, 1], ["label good", "label bad"])
    ax.set_yticks([0, 1], ["pred good", "pred bad"])
    ax.set_title(f"verdict confusion ({title}, n={m['n']})\nbudget rule; per-axis: false rejects "
                 f"{m['verdict_per_axis']['confusion']['pred_bad_label_good']:.1f}%", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
