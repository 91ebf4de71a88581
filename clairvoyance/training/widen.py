"""Growing a trained network wider without changing what it computes: capacity without starting over.

``iqa-fast`` underfits (its accuracy on its own training samples equals validation's) after a million
samples of fine-tuning, and a wider network trained from scratch would need those hours again. Here
every new channel gets random incoming weights and zero outgoing weights, so the widened network
scores every face exactly as the narrow one did; training then grows the new channels into use
(the zero-initialised variant of Net2Net's function-preserving widening, Chen et al. 2016).
"""
from __future__ import annotations

import torch
from torch import nn

from ..scoring import archs
from ..scoring.archs import HighFreqIQA


def widen(net: nn.Module, arch: str, config: dict, width: int) -> tuple[nn.Module, dict]:
    """``net`` (an ``hf`` or ``hfs`` of ``config``) grown to ``width``, and the grown network's config."""
    if not isinstance(net, HighFreqIQA):
        raise ValueError(f"only the hf and hfs architectures have a width to widen, not {arch}")
    if width < net.width:
        raise ValueError(f"cannot narrow a network of width {net.width} to {width}")
    config = {**config, "width": width}
    wide = archs.build(arch, **config)
    old, new = net.state_dict(), wide.state_dict()
    head = _first_linear(wide)
    with torch.no_grad():
        for key, t in new.items():
            o = old[key]
            if key == head + ".weight":
                _copy_segments(o, t, net.head_inputs(), wide.head_inputs())
                continue
            if t.dim() >= 2:
                t[:, o.shape[1]:] = 0  # new inputs are silent: their consumers ignore them
            t[tuple(slice(0, n) for n in o.shape)] = o  # old channels keep their weights
    wide.load_state_dict(new)
    return wide.to(next(net.parameters()).device), config


def grow_stem(net: nn.Module, arch: str, config: dict, stem: int) -> tuple[nn.Module, dict]:
    """``net`` (an ``hfs`` without a stem) given ``stem`` full-resolution channels before its unfold,
    and the grown network's config: the stem starts random, and the unfold's 1x1 convolution reads
    it with zero weights, so every face scores exactly as before until training uses it."""
    if getattr(net, "stem_channels", None) != 0:
        raise ValueError(f"only an hfs network without a stem can grow one, not {arch} {config}")
    config = {**config, "stem": stem}
    grown = archs.build(arch, **config)
    old, new = net.state_dict(), grown.state_dict()
    with torch.no_grad():
        for key, t in new.items():
            if key not in old:  # the stem itself: its random start
                continue
            o = old[key]
            if t.shape != o.shape:  # the unfold's 1x1 convolution: the stem's 16 * stem inputs come last
                t.zero_()
            t[tuple(slice(0, n) for n in o.shape)] = o
    grown.load_state_dict(new)
    return grown.to(next(net.parameters()).device), config


def _first_linear(net: nn.Module) -> str:
    return next(name for name, m in net.named_modules() if isinstance(m, nn.Linear))


def _copy_segments(old: torch.Tensor, new: torch.Tensor, old_sizes: list[int], new_sizes: list[int]) -> None:
    """Place each old input segment of the head at the start of its wider segment; the rest is zero."""
    new.zero_()
    o0 = n0 = 0
    for o, n in zip(old_sizes, new_sizes):
        new[:, n0 : n0 + o] = old[:, o0 : o0 + o]
        o0, n0 = o0 + o, n0 + n
