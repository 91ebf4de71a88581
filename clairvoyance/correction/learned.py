"""Learned correctors: one trained generator per axis, loaded from ``weights/gan-<axis>.pt``.

A generator is fully convolutional, so it runs on any size; large images go through overlapping
tiles blended with feathered weights, so no seam shows and the result matches whole-image inference.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

from ..degrade import linear_to_srgb, srgb_to_linear
from ..errors import ModelFileError
from .base import Corrector
from .networks import make_generator

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
TILE = 512
OVERLAP = 64


def save_generator(G: torch.nn.Module, opt, path: Path, epoch: int) -> None:
    g = opt.gan
    blob = {"kind": "corrector", "axis": opt.axis, "arch": g.arch,
            "config": {"width": g.width, "n_blocks": g.n_blocks, "upsample": g.upsample},
            "mode": g.mode, "epoch": epoch, "version": opt.version, "size": opt.size,
            "state_dict": {k: v.detach().cpu() for k, v in G.state_dict().items()}}
    tmp = Path(path).with_suffix(".tmp")
    torch.save(blob, tmp)
    tmp.replace(path)


def _weights(h: int, w: int, overlap: int) -> np.ndarray:
    def ramp(n):
        r = np.ones(n, np.float32)
        k = min(overlap, n // 2)
        if k > 0:
            t = (np.arange(k) + 0.5) / k
            r[:k], r[n - k:] = t, t[::-1]
        return r
    return np.outer(ramp(h), ramp(w))


class GeneratorModel:
    """A trained generator and what it corrects."""

    def __init__(self, net: torch.nn.Module, meta: dict):
        self.net, self.meta = net.eval(), meta
        self.axis = meta.get("axis", "?")
        self.label = f"gan-{self.axis}@{meta.get('version', '0')}"

    @classmethod
    def from_file(cls, path: str | Path) -> "GeneratorModel":
        try:
            blob = torch.load(path, map_location="cpu", weights_only=True)
            net = make_generator(blob.get("arch", "resnet"), **blob["config"])
            net.load_state_dict(blob["state_dict"])
        except (KeyError, RuntimeError, OSError, ValueError, TypeError, IndexError, EOFError,
                pickle.UnpicklingError) as e:
            raise ModelFileError(f"cannot load corrector {path}: {e}") from e
        return cls(net, {k: v for k, v in blob.items() if k != "state_dict"})

    @torch.no_grad()
    def _run(self, u8: np.ndarray) -> np.ndarray:
        """One image, reflection-padded to the multiple of 2^k the generator's downsamplings need."""
        h, w = u8.shape[:2]
        m = self.net.multiple
        ph, pw = (-h) % m, (-w) % m
        x = torch.from_numpy(np.ascontiguousarray(u8)).permute(2, 0, 1)[None].float().div(127.5).sub(1)
        if ph or pw:
            x = torch.nn.functional.pad(x, (0, pw, 0, ph), mode="reflect")
        y = self.net(x)[0, :, :h, :w]
        return ((y.clamp(-1, 1) + 1) * 127.5).permute(1, 2, 0).numpy()

    def apply_one(self, u8: np.ndarray, tile: int = TILE, overlap: int = OVERLAP) -> np.ndarray:
        """Correct an RGB uint8 image of any size, by overlapping tiles when larger than ``tile``."""
        h, w = u8.shape[:2]
        if h <= tile and w <= tile:
            return np.clip(self._run(u8) + 0.5, 0, 255).astype(np.uint8)
        acc = np.zeros((h, w, 3), np.float32)
        wsum = np.zeros((h, w, 1), np.float32)
        step = tile - overlap
        ys = list(range(0, max(h - tile, 0) + 1, step)) or [0]
        xs = list(range(0, max(w - tile, 0) + 1, step)) or [0]
        if ys[-1] + tile < h:
            ys.append(h - tile)
        if xs[-1] + tile < w:
            xs.append(w - tile)
        for y in ys:
            for x in xs:
                patch = u8[y : y + tile, x : x + tile]
                out = self._run(patch)
                wt = _weights(*patch.shape[:2], overlap)[..., None]
                acc[y : y + patch.shape[0], x : x + patch.shape[1]] += out * wt
                wsum[y : y + patch.shape[0], x : x + patch.shape[1]] += wt
        return np.clip(acc / np.maximum(wsum, 1e-6) + 0.5, 0, 255).astype(np.uint8)

    def apply(self, batch: np.ndarray) -> np.ndarray:
        return np.stack([self.apply_one(b) for b in batch]) if len(batch) else batch


def shipped_generators() -> dict[str, Path]:
    return {p.stem.removeprefix("gan-"): p for p in WEIGHTS_DIR.glob("gan-*.pt")}


def fit_tone_curve(before: np.ndarray, after: np.ndarray, neutral: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``after_lin = a * before_lin ** g`` fitted in log space on unclipped pixels.

    ``neutral``: one curve for all three channels (exposure is colourless, so a generator's slight
    colour cast is not copied to the photo); otherwise one curve per channel.
    """
    b, a = srgb_to_linear(before).reshape(-1, 3), srgb_to_linear(after).reshape(-1, 3)
    gains, gammas = np.ones(3, np.float32), np.ones(3, np.float32)
    ok = (b > 0.003) & (b < 0.97) & (a > 0.003) & (a < 0.97)
    for c in ([[0, 1, 2]] if neutral else [[0], [1], [2]]):
        m = ok[:, c]
        if m.sum() < 50:
            continue
        x, y = np.log(b[:, c][m]), np.log(a[:, c][m])
        g = np.clip(np.polyfit(x, y, 1)[0], 0.5, 2.0)
        gammas[c] = g
        gains[c] = np.exp(np.clip(np.mean(y - g * x), -3, 3))
    return gains, gammas


def apply_tone_curve(image: np.ndarray, gains: np.ndarray, gammas: np.ndarray) -> np.ndarray:
    lin = srgb_to_linear(image)
    return linear_to_srgb(gains * np.power(np.maximum(lin, 1e-6), gammas))


class LearnedCorrector(Corrector):
    """The shipped generators; an axis without one falls back to the classical corrector."""

    name = "learned"

    def __init__(self) -> None:
        from .classical import ClassicalCorrector

        self.generators = {a: GeneratorModel.from_file(p) for a, p in shipped_generators().items()}
        self.fallback = ClassicalCorrector()
        self.version = "+".join(sorted(g.label for g in self.generators.values())) or "none"

    def correct_axis(self, image: np.ndarray, axis: str, reference: np.ndarray, scale: float) -> np.ndarray:
        g = self.generators.get(axis)
        return g.apply_one(image) if g else self.fallback.correct_axis(image, axis, reference, scale)

    def correct_lighting(self, image: np.ndarray, face_crop: np.ndarray) -> np.ndarray:
        """The generator relights the face; the tone curve it implies is applied to the whole photo."""
        g = self.generators.get("lighting")
        if g is None:
            return self.fallback.correct_lighting(image, face_crop)
        return apply_tone_curve(image, *fit_tone_curve(face_crop, g.apply_one(face_crop)))
