"""The correction model: CycleGAN (unpaired) or paired training of the same generator, for one axis.

A small model contract in the manner of pytorch-CycleGAN-and-pix2pix's ``BaseModel``:
``set_input`` / ``forward`` / ``optimize_parameters`` / ``losses``, so the training loop,
checkpoints and sample grids are written once.

* ``cycle``: two generators (bad->good ``G``, good->bad ``F``) and two 70x70 PatchGAN
  discriminators; least-squares GAN loss, cycle loss (weight 10), identity loss (0.5 x 10), a pool
  of 50 past fakes for the discriminators.
* ``paired``: the synthetic degradations give (degraded, clean) pairs for free, so ``G`` also
  learns from a reconstruction L1 loss (weight 100, as pix2pix) beside the adversarial loss;
  ``--cycle`` keeps the cycle term too.
Images are tensors in [-1, 1].
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import torch
from torch import nn

from .networks import PatchDiscriminator, init_weights, make_generator


@dataclass
class GanOptions:
    mode: str = "paired"  # or "cycle"
    arch: str = "resnet"  # or "unet"
    width: int = 16
    n_blocks: int = 9
    upsample: str = "resize"
    d_width: int = 32
    lr: float = 2e-4
    beta1: float = 0.5
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5
    lambda_l1: float = 100.0
    lambda_gan: float = 1.0
    cycle_in_paired: bool = False
    pool_size: int = 50


class ImagePool:
    """Past generated images, so discriminators see a history rather than the latest batch only."""

    def __init__(self, size: int):
        self.size, self.images = size, []

    def query(self, images: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return images
        out = []
        for img in images.detach():
            img = img[None]
            if len(self.images) < self.size:
                self.images.append(img)
                out.append(img)
            elif random.random() < 0.5:
                i = random.randrange(self.size)
                out.append(self.images[i].clone())
                self.images[i] = img
            else:
                out.append(img)
        return torch.cat(out)


def _lsgan(pred: torch.Tensor, real: bool) -> torch.Tensor:
    return torch.mean((pred - (1.0 if real else 0.0)) ** 2)


class CorrectionGAN(nn.Module):
    def __init__(self, opt: GanOptions):
        super().__init__()
        self.opt = opt
        gen = lambda: make_generator(opt.arch, width=opt.width, n_blocks=opt.n_blocks, upsample=opt.upsample)
        self.G = gen()
        self.D_B = PatchDiscriminator(opt.d_width)  # judges "good" images
        nets = [self.G, self.D_B]
        self.uses_cycle = opt.mode == "cycle" or opt.cycle_in_paired
        if self.uses_cycle:
            self.F = gen()
            self.D_A = PatchDiscriminator(opt.d_width)
            nets += [self.F, self.D_A]
        for n in nets:
            if opt.arch == "resnet" or isinstance(n, PatchDiscriminator):  # the U-Net has no normalisation:
                init_weights(n)  # it keeps PyTorch's default (Kaiming) initialisation
        g_params = list(self.G.parameters()) + (list(self.F.parameters()) if self.uses_cycle else [])
        d_params = list(self.D_B.parameters()) + (list(self.D_A.parameters()) if self.uses_cycle else [])
        self.opt_G = torch.optim.Adam(g_params, lr=opt.lr, betas=(opt.beta1, 0.999))
        self.opt_D = torch.optim.Adam(d_params, lr=opt.lr, betas=(opt.beta1, 0.999))
        self.pool_A, self.pool_B = ImagePool(opt.pool_size), ImagePool(opt.pool_size)
        self.losses: dict[str, float] = {}

    def set_input(self, bad: torch.Tensor, good: torch.Tensor) -> None:
        """``bad`` and ``good`` batches; in paired mode ``good[i]`` is ``bad[i]`` before degradation."""
        self.real_A, self.real_B = bad, good

    def forward(self) -> None:
        self.fake_B = self.G(self.real_A)
        if self.uses_cycle:
            self.rec_A = self.F(self.fake_B)
            self.fake_A = self.F(self.real_B)
            self.rec_B = self.G(self.fake_A)

    def _backward_G(self) -> None:
        o = self.opt
        l1 = nn.functional.l1_loss
        loss_gan = _lsgan(self.D_B(self.fake_B), True) * o.lambda_gan
        total = loss_gan
        self.losses = {"G_gan": loss_gan.item()}
        if o.mode == "paired":
            loss_l1 = l1(self.fake_B, self.real_B) * o.lambda_l1
            total = total + loss_l1
            self.losses["G_l1"] = loss_l1.item()
        if self.uses_cycle:
            loss_gan_a = _lsgan(self.D_A(self.fake_A), True) * o.lambda_gan
            loss_cyc = (l1(self.rec_A, self.real_A) + l1(self.rec_B, self.real_B)) * o.lambda_cycle
            total = total + loss_gan_a + loss_cyc
            self.losses.update(F_gan=loss_gan_a.item(), cycle=loss_cyc.item())
            if o.lambda_identity > 0:
                loss_idt = (l1(self.G(self.real_B), self.real_B) + l1(self.F(self.real_A), self.real_A)) \
                    * o.lambda_cycle * o.lambda_identity
                total = total + loss_idt
                self.losses["identity"] = loss_idt.item()
        total.backward()

    def _backward_D(self) -> None:
        fake_B = self.pool_B.query(self.fake_B)
        loss = 0.5 * (_lsgan(self.D_B(self.real_B), True) + _lsgan(self.D_B(fake_B), False))
        if self.uses_cycle:
            fake_A = self.pool_A.query(self.fake_A)
            loss = loss + 0.5 * (_lsgan(self.D_A(self.real_A), True) + _lsgan(self.D_A(fake_A), False))
        loss.backward()
        self.losses["D"] = loss.item()

    def optimize_parameters(self) -> None:
        self.forward()
        discs = [self.D_B] + ([self.D_A] if self.uses_cycle else [])
        for d in discs:
            d.requires_grad_(False)
        self.opt_G.zero_grad(set_to_none=True)
        self._backward_G()
        self.opt_G.step()
        for d in discs:
            d.requires_grad_(True)
        self.opt_D.zero_grad(set_to_none=True)
        self._backward_D()
        self.opt_D.step()
