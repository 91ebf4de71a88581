"""Quality-model architectures, registered by name so a model file can name the one it needs.

* ``seed``: the 2018 report's network (Figure 5), faithfully: five convolutions whose channels and
  kernel sizes grow then shrink (U-Net-like), three max-pools, dropout, two linear layers,
  LeakyReLU(0.01), a sigmoid on three outputs.
* ``hf``: our design. Blur and noise live in the highest frequencies, so one branch sees the
  image minus its blurred self at full resolution and summarises it with statistics pooled over
  a learned face-attention map (background bokeh can be ignored); lighting needs global context,
  so a second branch sees a 64x64 thumbnail plus luminance statistics.
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F


class SeedIQA(nn.Module):
    def __init__(self, dropout: float = 0.3):
        super().__init__()
        act = lambda: nn.LeakyReLU(0.01)
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), act(), nn.MaxPool2d(2),      # 128
            nn.Conv2d(16, 32, 5, padding=2), act(), nn.MaxPool2d(2),     # 64
            nn.Conv2d(32, 64, 7, padding=3), act(), nn.MaxPool2d(2),     # 32
            nn.Conv2d(64, 32, 5, padding=2), act(),
            nn.Conv2d(32, 16, 3, padding=1), act(),
        )
        self.head = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(16 * 32 * 32, 128), act(), nn.Linear(128, 3),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.head(self.features(x)))


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.01))


def _global_branch(w: int) -> nn.Sequential:
    """Exposure and context: a 64x64 thumbnail plus a channel of distance from the crop's centre."""
    return nn.Sequential(_conv(4, w), _conv(w, w, 2), _conv(w, 2 * w, 2), _conv(2 * w, 2 * w, 2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten())


def _radius(n: int = 64) -> torch.Tensor:
    """Distance from the crop's centre, so the global branch knows face from background."""
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, n), torch.linspace(-1, 1, n), indexing="ij")
    return (xx**2 + yy**2).sqrt()[None, None]


def _attention_pool(h: torch.Tensor, attn: nn.Module) -> torch.Tensor:
    """Mean and spread of every channel, weighted by a learned attention map (face, not bokeh)."""
    a = torch.softmax(attn(h).flatten(1), 1).view(h.shape[0], 1, *h.shape[2:])
    mean = (h * a).sum((2, 3))
    std = ((h - mean[..., None, None]) ** 2 * a).sum((2, 3)).clamp_min(1e-6).sqrt()
    return torch.cat([mean, std], 1)


def _luminance_stats(x: torch.Tensor) -> torch.Tensor:
    """Mean, spread and clipped shares of the face centre's luminance, and the crop's mean and spread."""
    lum = 0.2126 * x[:, 0] + 0.7152 * x[:, 1] + 0.0722 * x[:, 2]
    c = lum[:, 64:192, 64:192].flatten(1)  # centre of the crop: the face
    return torch.stack([c.mean(1), c.std(1), (c > 0.98).float().mean(1), (c < 0.02).float().mean(1),
                        lum.flatten(1).mean(1), lum.flatten(1).std(1)], 1)


def _high_pass(x: torch.Tensor) -> torch.Tensor:
    """The image minus its 3x3 box blur: grain, edges and fine texture."""
    return x - F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), 3, 1)


class HighFreqIQA(nn.Module):
    #: Features the head receives beyond the pooled branches (``hfs`` adds the native size).
    extra_features = 0

    def __init__(self, width: int = 32, dropout: float = 0.2):
        super().__init__()
        self.width = w = width
        self.hf = self._hf_branch(w)
        self.attn = nn.Conv2d(4 * w, 1, 1)
        self.glob = _global_branch(w)
        feat = 4 * w * 2 + 2 * w + 6 + self.extra_features
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(feat, 128), nn.LeakyReLU(0.01), nn.Linear(128, 3))
        self.register_buffer("radius", _radius(), persistent=False)

    def head_inputs(self) -> list[int]:
        """Sizes of the head's input segments, in order: attention-pooled means and spreads, the
        global branch, luminance statistics, extra features (what ``widen`` must keep apart)."""
        return [4 * self.width, 4 * self.width, 2 * self.width, 6, self.extra_features]

    @staticmethod
    def _hf_branch(w: int) -> nn.Sequential:
        """Full-resolution residual, no early pooling so noise stays visible; ends with 4w channels."""
        return nn.Sequential(_conv(6, w), _conv(w, w), _conv(w, w, 2), _conv(w, 2 * w), _conv(2 * w, 2 * w, 2),
                             _conv(2 * w, 2 * w), _conv(2 * w, 4 * w, 2), _conv(4 * w, 4 * w))

    def hf_input(self, x: torch.Tensor) -> torch.Tensor:
        """What the high-frequency branch reads: the residual and the image, six channels."""
        return torch.cat([_high_pass(x), x], 1)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Attention-pooled high frequencies, the global branch, and luminance statistics."""
        h = self.hf(self.hf_input(x))
        thumb = F.adaptive_avg_pool2d(x, 64)
        g = self.glob(torch.cat([thumb, self.radius.expand(x.shape[0], -1, -1, -1)], 1))
        return [_attention_pool(h, self.attn), g, _luminance_stats(x)]

    def head_input(self, x: torch.Tensor, native: torch.Tensor | None = None) -> torch.Tensor:
        """The vector the head reads (what an auxiliary training head may read too)."""
        return torch.cat(self.features(x), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.head(self.head_input(x)))


class SpaceToDepthIQA(HighFreqIQA):
    """``hfs``: hf's design at a tenth of its cost, told the face's native size.

    The image and its high-pass residual are unfolded 4x4 pixels into channels (PixelUnshuffle is
    lossless, so the finest grain and edges survive) and convolved at 64x64 and below instead of
    256x256. The native size, log2(side in original pixels / 256), tells an upscaled small face
    (soft, but its label is unchanged) from a blurred one.

    ``stem`` > 0 adds that many full-resolution feature channels (a 3x3 convolution of the image and
    its residual) beside them before the unfold: the unfold's 1x1 convolution sees each 4x4 block
    alone, so an edge that straddles two blocks is only seen in halves; the stem's filters see it
    whole, in any position. (``training.widen.grow_stem`` adds them to a trained network silently.)
    """

    uses_native = True
    extra_features = 1

    def __init__(self, width: int = 32, dropout: float = 0.2, stem: int = 0):
        self.stem_channels = stem  # read by _hf_branch, which the base class calls
        super().__init__(width, dropout)
        self.stem = (nn.Sequential(nn.Conv2d(6, stem, 3, padding=1, bias=False), nn.BatchNorm2d(stem),
                                   nn.LeakyReLU(0.01)) if stem else None)

    def _hf_branch(self, w: int) -> nn.Sequential:
        return nn.Sequential(nn.PixelUnshuffle(4), nn.Conv2d(16 * (6 + self.stem_channels), 2 * w, 1, bias=False),
                             nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.01), _conv(2 * w, w), _conv(w, 2 * w, 2),
                             _conv(2 * w, 2 * w), _conv(2 * w, 4 * w, 2), _conv(4 * w, 4 * w))

    def hf_input(self, x: torch.Tensor) -> torch.Tensor:
        base = super().hf_input(x)
        return torch.cat([base, self.stem(base)], 1) if self.stem is not None else base

    def head_input(self, x: torch.Tensor, native: torch.Tensor | None = None) -> torch.Tensor:
        if native is None:
            native = torch.full((x.shape[0],), 256.0, device=x.device)
        size = torch.log2(native.float().clamp(32, 256) / 256.0)[:, None]
        return torch.cat([*self.features(x), size], 1)

    def forward(self, x: torch.Tensor, native: torch.Tensor | None = None) -> torch.Tensor:
        return torch.sigmoid(self.head(self.head_input(x, native)))


def run(net: nn.Module, x: torch.Tensor, native: torch.Tensor | None = None) -> torch.Tensor:
    """Scores of a batch, giving the native sizes to networks that read them (``uses_native``)."""
    return net(x, native) if getattr(net, "uses_native", False) else net(x)


ARCHS: dict[str, type[nn.Module]] = {"seed": SeedIQA, "hf": HighFreqIQA, "hfs": SpaceToDepthIQA}


def build(arch: str, **config) -> nn.Module:
    from ..errors import UnknownModelError

    if arch not in ARCHS:
        raise UnknownModelError("architecture", arch, list(ARCHS))
    return ARCHS[arch](**config)
