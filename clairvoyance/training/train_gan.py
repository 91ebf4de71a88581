"""Training the correctors: one generator per axis, checkpoints and sample grids every N epochs.

As the report did, a checkpoint is saved every ``save_every`` epochs (loss alone does not say
which epoch corrects best); ``pick`` scores each on held-out validation pairs (PSNR gain over the
degraded input) and keeps the best as ``best.pt``. The learning rate is constant for the first
half of the epochs and decays linearly to zero over the second (CycleGAN's schedule).
"""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..correction.gan import CorrectionGAN, GanOptions
from ..correction.learned import GeneratorModel, save_generator
from .dataset import Crops
from .gan_data import PatchSampler, make_pairs


@dataclass
class GanTrainOptions:
    data: str
    axis: str
    out: str = "runs/gan"
    gan: GanOptions = field(default_factory=GanOptions)
    epochs: int = 20
    size: int = 96
    batch: int = 8
    variants: int = 4
    save_every: int = 5
    seed: int = 0
    filter_model: str | None = "iqa"
    max_minutes: float | None = None
    version: str = "1"


def _lr_lambda(epochs: int):
    half = max(1, epochs // 2)
    return lambda e: 1.0 if e < half else max(0.0, 1.0 - (e - half + 1) / (epochs - half + 1))


def train_gan(opt: GanTrainOptions, log=print) -> Path:
    out = Path(opt.out)
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    (out / "options.json").write_text(json.dumps(asdict(opt), indent=2))
    torch.manual_seed(opt.seed)
    np.random.seed(opt.seed)
    import random
    random.seed(opt.seed)
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    train_c = Crops.load(Path(opt.data), "train")
    filt = None
    if opt.filter_model:
        from ..scoring import get_model
        filt = get_model(opt.filter_model)
    pairs_path = out / "pairs.npz"
    if pairs_path.exists():
        z = np.load(pairs_path)
        bad, good = z["bad"], z["good"]
    else:
        bad, good = make_pairs(train_c.images, opt.axis, opt.variants, opt.seed, filt)
        np.savez(pairs_path, bad=bad, good=good)
    log(f"{len(bad)} training pairs for {opt.axis} (IQA-filtered: {bool(filt)})")
    val_bad, val_good = validation_pairs(Path(opt.data), opt.axis, opt.seed)
    size = opt.size
    resize = opt.axis == "lighting"  # exposure needs the whole face: train on whole crops, downscaled
    sampler = PatchSampler(bad, good, size, paired=opt.gan.mode == "paired", seed=opt.seed, resize=resize)
    gan = CorrectionGAN(opt.gan).to(dev)
    scheds = [torch.optim.lr_scheduler.LambdaLR(o, _lr_lambda(opt.epochs)) for o in (gan.opt_G, gan.opt_D)]
    start, history = 0, []
    last = out / "last.pt"
    if last.exists():
        st = torch.load(last, map_location=dev, weights_only=False)
        gan.load_state_dict(st["gan"])
        gan.opt_G.load_state_dict(st["opt_G"])
        gan.opt_D.load_state_dict(st["opt_D"])
        for s, ss in zip(scheds, st["scheds"]):
            s.load_state_dict(ss)
        start, history = st["epoch"], st["history"]
        log(f"resumed at epoch {start}")
    steps = max(1, len(bad) // opt.batch)
    t0 = time.time()
    for epoch in range(start, opt.epochs):
        gan.train()
        acc: dict[str, float] = {}
        for _ in range(steps):
            a, b = sampler.batch(opt.batch)
            gan.set_input(a.to(dev), b.to(dev))
            gan.optimize_parameters()
            for k, v in gan.losses.items():
                acc[k] = acc.get(k, 0.0) + v / steps
        for s in scheds:
            s.step()
        history.append({"epoch": epoch + 1, **acc, "minutes": (time.time() - t0) / 60})
        log(f"epoch {epoch + 1}: " + " ".join(f"{k} {v:.3f}" for k, v in acc.items()))
        stopping = bool(opt.max_minutes) and (time.time() - t0) / 60 > opt.max_minutes
        if (epoch + 1) % opt.save_every == 0 or epoch + 1 == opt.epochs or stopping:
            ck = out / "checkpoints" / f"epoch_{epoch + 1:03d}.pt"
            save_generator(gan.G, opt, ck, epoch + 1)
            sample_grid(GeneratorModel.from_file(ck), val_bad[:6], val_good[:6], out / "checkpoints" / f"epoch_{epoch + 1:03d}.png")
        torch.save({"gan": gan.state_dict(), "opt_G": gan.opt_G.state_dict(), "opt_D": gan.opt_D.state_dict(),
                    "scheds": [s.state_dict() for s in scheds], "epoch": epoch + 1, "history": history}, last)
        (out / "history.json").write_text(json.dumps(history, indent=1))
        if stopping:
            log(f"stopping after {opt.max_minutes} minutes (resume with --resume)")
            break
    return out


def validation_pairs(data: Path, axis: str, seed: int = 0, variants: int = 2, split: str = "val"):
    crops = Crops.load(data, split)
    return make_pairs(crops.images, axis, variants, seed + 1000, None, augment=False)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 100.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def pick(out: Path, data: Path, axis: str, log=print) -> Path:
    """Score every saved checkpoint on the validation pairs; copy the best to ``best.pt``."""
    bad, good = validation_pairs(data, axis)
    best, best_gain = None, -1e9
    for ck in sorted((out / "checkpoints").glob("epoch_*.pt")):
        g = GeneratorModel.from_file(ck)
        fixed = g.apply(bad)
        gain = float(np.mean([psnr(f, c) - psnr(b, c) for f, b, c in zip(fixed, bad, good)]))
        log(f"{ck.name}: PSNR gain {gain:+.2f} dB")
        if gain > best_gain:
            best, best_gain = ck, gain
    if best is None:
        raise FileNotFoundError(f"no checkpoints in {out / 'checkpoints'}")
    shutil.copyfile(best, out / "best.pt")
    log(f"best: {best.name} ({best_gain:+.2f} dB) -> {out / 'best.pt'}")
    return out / "best.pt"


def sample_grid(g: GeneratorModel, bad: np.ndarray, good: np.ndarray, path: Path) -> None:
    """Rows of (degraded input | corrected | clean target)."""
    from PIL import Image

    if len(bad) == 0:
        return
    fixed = g.apply(bad)
    rows = [np.concatenate([b, f, c], axis=1) for b, f, c in zip(bad, fixed, good)]
    Image.fromarray(np.concatenate(rows, axis=0)).save(path)
