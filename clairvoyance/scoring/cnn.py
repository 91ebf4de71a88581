"""Learned quality models: a torch network plus the facts needed to use it, in one file.

A model file (``torch.save`` of a dict) carries ``arch``, ``config``, ``version``, ``preprocess``
and ``state_dict`` (plus training metadata), so files written by older versions keep loading.
"""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ..errors import ModelFileError
from ..types import Scores
from . import archs
from .base import QualityModel

FORMAT = 1
PREPROCESS = {"size": 256, "range": "srgb/255", "layout": "NCHW RGB"}


def to_tensor(crops: Sequence[np.ndarray]) -> torch.Tensor:
    """uint8 HxWx3 RGB crops -> float NCHW in [0, 1]."""
    a = np.stack([np.asarray(c, dtype=np.uint8) for c in crops])
    return torch.from_numpy(a).permute(0, 3, 1, 2).float().div_(255.0)


#: Weights and statistics smaller than this are zeros in all but cost: next to activations of order
#: 1, float32 cannot resolve them (its epsilon is 1.2e-7), yet their products underflow to subnormals.
FLUSH_BELOW = 1e-20


def flush_subnormals(state: dict[str, torch.Tensor]) -> int:
    """Set float values smaller than ``FLUSH_BELOW`` to zero, in place; returns how many were not zero.

    Weight decay drives a dead channel's weights towards zero until they are tiny (1e-38 and below),
    and their products are subnormal numbers, which the CPU multiplies many times slower: such
    weights (0.9% of them) made ``iqa-fast`` version 11 score a face in 8.2-8.7 ms instead of 5.1-6.0
    ms (``bench/bench_iqa.py --keep-tiny``), with the same scores (to 1e-5)."""
    n = 0
    for v in state.values():
        if v.is_floating_point():
            tiny = v.abs() < FLUSH_BELOW
            n += int((tiny & (v != 0)).sum())
            v[tiny] = 0
    return n


class CNNModel(QualityModel):
    """A trained network from ``archs`` with its name and version."""

    def __init__(self, net: torch.nn.Module, name: str, version: str, meta: dict | None = None):
        self.net = net.eval()
        self.name, self.version = name, version
        self.meta = meta or {}

    @classmethod
    def from_file(cls, path: str | Path, flush: bool = True) -> "CNNModel":
        """Load a model file; ``flush=False`` keeps tiny weights as saved (to measure what they cost)."""
        path = Path(path)
        try:
            blob = torch.load(path, map_location="cpu", weights_only=True)
            net = archs.build(blob["arch"], **blob.get("config", {}))
            if flush:  # files saved before saving flushed them
                flush_subnormals(blob["state_dict"])
            net.load_state_dict(blob["state_dict"])
        except (KeyError, RuntimeError, OSError, ValueError, TypeError, AttributeError, IndexError, EOFError,
                pickle.UnpicklingError) as e:
            raise ModelFileError(f"cannot load quality model {path}: {e}") from e
        pre = blob.get("preprocess", PREPROCESS)
        if pre.get("size") != 256:
            raise ModelFileError(f"{path}: unsupported preprocessing {pre}")
        meta = {k: v for k, v in blob.items() if k != "state_dict"}
        return cls(net, blob.get("name", path.stem), str(blob.get("version", "0")), meta)

    @torch.no_grad()
    def predict(self, crops: Sequence[np.ndarray], native_sizes: Sequence[int] | None = None) -> list[Scores]:
        if len(crops) == 0:
            return []
        native = torch.tensor([float(n) for n in native_sizes]) if native_sizes is not None else None
        y = archs.run(self.net, to_tensor(crops), native).numpy().astype(float)
        return [Scores(*row) for row in y]


def save_model(net: torch.nn.Module, arch: str, config: dict, path: str | Path, name: str, version: str,
               **meta) -> None:
    """Write a self-describing model file (weights as float32 on the CPU)."""
    state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    flush_subnormals(state)
    blob = {"format": FORMAT, "arch": arch, "config": config, "name": name, "version": version,
            "preprocess": PREPROCESS, "state_dict": state, **meta}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(path).with_suffix(".tmp")
    torch.save(blob, tmp)
    tmp.replace(path)
