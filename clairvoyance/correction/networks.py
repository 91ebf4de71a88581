"""CycleGAN's networks (Zhu et al. 2017, as the reference pytorch-CycleGAN-and-pix2pix builds them).

* ``ResnetGenerator``: two stride-2 convolutions down, ``n_blocks`` residual blocks (9 in the
  report), two up; instance norm, reflection padding. ``upsample="resize"`` replaces transposed
  convolutions with nearest-neighbour resize + convolution, which cannot make checkerboard artefacts.
  The output is the input plus a learned residual (clamped to [-1, 1]), so an untrained generator is
  the identity and colours cannot drift far; ``width`` (ngf) sets the cost.
* ``UnetGenerator``: pix2pix's U-Net (skip connections at every scale, including full resolution),
  ``n_blocks`` downsamplings. Denoising needs the full-resolution skip: a generator that only sees
  the image at a quarter of its resolution cannot reproduce pixel-level noise to subtract it, only
  blur it. Same residual output and resize-convolution upsampling as the ResNet generator.
* ``PatchDiscriminator``: the 70x70 PatchGAN (three stride-2 4x4 convolutions then two stride-1).
Both are fully convolutional, so a generator runs on any image size (tiled inference).
"""
from __future__ import annotations

import torch
from torch import nn


class ResnetBlock(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), nn.InstanceNorm2d(ch), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), nn.InstanceNorm2d(ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    def __init__(self, width: int = 64, n_blocks: int = 9, upsample: str = "resize"):
        super().__init__()
        w = width
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(3, w, 7), nn.InstanceNorm2d(w), nn.ReLU(True)]
        for m in (1, 2):
            layers += [nn.Conv2d(w * m, w * m * 2, 3, 2, 1), nn.InstanceNorm2d(w * m * 2), nn.ReLU(True)]
        layers += [ResnetBlock(w * 4) for _ in range(n_blocks)]
        for m in (4, 2):
            if upsample == "resize":
                layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1),
                           nn.Conv2d(w * m, w * m // 2, 3)]
            else:
                layers += [nn.ConvTranspose2d(w * m, w * m // 2, 3, 2, 1, output_padding=1)]
            layers += [nn.InstanceNorm2d(w * m // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(w, 3, 7)]
        self.net = nn.Sequential(*layers)
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` in [-1, 1], NCHW with H and W multiples of 4."""
        return torch.clamp(x + self.net(x), -1.0, 1.0)

    multiple = 4  # two stride-2 convolutions


def _conv(cin: int, cout: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, stride, 1, padding_mode="reflect"), nn.LeakyReLU(0.2, True)]


class UnetGenerator(nn.Module):
    def __init__(self, width: int = 32, n_blocks: int = 3, upsample: str = "resize"):
        super().__init__()
        w, self.depth, self.upsample = width, n_blocks, upsample
        chans = [min(w * 2**i, w * 8) for i in range(n_blocks + 1)]
        self.inc = nn.Sequential(*_conv(3, w), *_conv(w, w))
        self.downs = nn.ModuleList(nn.Sequential(*_conv(chans[i], chans[i + 1], 2), *_conv(chans[i + 1], chans[i + 1]))
                                   for i in range(n_blocks))
        self.ups = nn.ModuleList(
            nn.Conv2d(chans[i + 1], chans[i], 3, 1, 1, padding_mode="reflect") if upsample == "resize"
            else nn.ConvTranspose2d(chans[i + 1], chans[i], 2, 2) for i in range(n_blocks))
        self.fuse = nn.ModuleList(nn.Sequential(*_conv(2 * chans[i], chans[i]), *_conv(chans[i], chans[i]))
                                  for i in range(n_blocks))
        self.out = nn.Conv2d(w, 3, 3, 1, 1, padding_mode="reflect")
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    @property
    def multiple(self) -> int:
        return 2**self.depth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` in [-1, 1], NCHW with H and W multiples of ``2 ** n_blocks``."""
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        h = skips.pop()
        for i in reversed(range(self.depth)):
            if self.upsample == "resize":
                h = nn.functional.interpolate(h, scale_factor=2, mode="nearest")
            h = nn.functional.leaky_relu(self.ups[i](h), 0.2)
            h = self.fuse[i](torch.cat([h, skips.pop()], 1))
        return torch.clamp(x + self.out(h), -1.0, 1.0)


GENERATORS = {"resnet": ResnetGenerator, "unet": UnetGenerator}


def make_generator(arch: str = "resnet", **config) -> nn.Module:
    """A generator by architecture name (files saved before ``arch`` existed are ResNets)."""
    return GENERATORS[arch](**config)


class PatchDiscriminator(nn.Module):
    def __init__(self, width: int = 64, n_layers: int = 3):
        super().__init__()
        w = width
        layers: list[nn.Module] = [nn.Conv2d(3, w, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        m = 1
        for n in range(1, n_layers):
            m_prev, m = m, min(2**n, 8)
            layers += [nn.Conv2d(w * m_prev, w * m, 4, 2, 1), nn.InstanceNorm2d(w * m), nn.LeakyReLU(0.2, True)]
        m_prev, m = m, min(2**n_layers, 8)
        layers += [nn.Conv2d(w * m_prev, w * m, 4, 1, 1), nn.InstanceNorm2d(w * m), nn.LeakyReLU(0.2, True),
                   nn.Conv2d(w * m, 1, 4, 1, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def init_weights(net: nn.Module, gain: float = 0.02) -> None:
    """Normal(0, 0.02) initialisation as in the reference implementation (the output layer stays zero)."""
    last = None
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            last = m
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and m is not last or (
                isinstance(m, nn.Conv2d) and isinstance(net, PatchDiscriminator)):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
