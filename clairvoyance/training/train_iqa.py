"""Training the quality model: seeded, resumable, on the GPU when there is one.

Each epoch draws fresh synthetic degradations of every training crop (``synth.sample``), so
the network never sees the same degraded face twice; human labels (CSV or the studio's SQLite)
are added as they are and override synthetic ones for the same crop. Validation uses a fixed,
seeded set of degradations of the validation crops, so epochs are comparable; before it,
BatchNorm's statistics are recomputed exactly on fixed training samples (``precise_bn``).
Every sample carries the face's native size, for architectures that read it (``hfs``).
"""
from __future__ import annotations

import json
import math
import os
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..scoring import archs
from ..scoring.cnn import CNNModel, flush_subnormals, save_model, to_tensor
from ..types import AXES
from . import metrics, synth
from .dataset import Crops, load_textures, read_human_labels, read_manifest
from .widen import grow_stem, widen


@dataclass
class TrainOptions:
    data: str
    out: str = "runs/iqa"
    arch: str = "hf"
    config: dict = field(default_factory=dict)
    epochs: int = 30
    samples_per_crop: int = 8
    batch: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    seed: int = 0
    workers: int = max(1, (os.cpu_count() or 2) - 1)
    val_variants: int = 6
    bn_samples: int = 512
    labels: str | None = None
    init: str | None = None
    name: str = "iqa"
    version: str = "1"
    max_minutes: float | None = None
    #: Extra loss weight on labels near the 0.5 edge (0: plain smooth L1), see ``edge_weighted_loss``.
    edge_weight: float = 0.0
    #: Network width (hf, hfs); with ``init``, the initial model is widened to it (``widen``).
    width: int | None = None
    #: Full-resolution stem channels (hfs); with ``init``, grown onto the initial model (``grow_stem``).
    stem: int | None = None
    #: Share of training samples from low-resolution sources (None: the ladder's ``synth.P_SOFT_SOURCE``);
    #: validation always uses the ladder's.
    soft_source_share: float | None = None
    #: Spread of the colour casts of training samples (None: the ladder's ``synth.CAST_SD``).
    cast_sd: float | None = None
    #: Share of training samples whose background is relit (``synth.relit_background``, the person
    #: found once per crop by ``synth.person_mask``; the ladder: 0).
    background_share: float = 0.0
    #: Folders of clean photos without faces whose crops teach focus alone (``synth.texture_crop``)
    #: to ``texture_share`` of training samples; the ladder has none.
    textures: list[str] = field(default_factory=list)
    texture_share: float = 0.0
    #: Share of small faces drawn at 64-128 native pixels, their blur counted in their own pixels
    #: (``synth.sample``'s ``p_tiny``; the ladder: 0).
    tiny_face_share: float = 0.0
    #: Share of grain added on the raw mosaic and demosaiced, as a camera makes it (``synth.noise``'s
    #: ``p_raw``; the ladder: 0).
    raw_grain_share: float = 0.0
    #: Share of training samples given an editor's local-contrast finish after their grain
    #: (``synth.sample``'s ``p_look``; the ladder: 0).
    local_contrast_share: float = 0.0
    #: Degradation steps (``synth.sample``'s names, e.g. ``sharpen``, ``soft_source``) that an auxiliary
    #: head must tell from the head's input features during training, weighted ``aux_weight``, so that
    #: the backbone learns to carry what a label depends on but the pixels show faintly. The model file
    #: keeps no trace of it (``AuxHead``). Version 25 tried ``sharpen``: a tie (README, versions tried).
    aux_steps: list[str] = field(default_factory=list)
    aux_weight: float = 0.1


class SynthSet(Dataset):
    """Fresh degradations of clean crops; index i of epoch e always gives the same sample, as
    (image, labels, native size, which labels count, which of ``aux_steps`` it went through):
    ``texture_share`` of the samples degrade a crop of one of ``textures`` instead and count on
    focus only (``synth.TEXTURE_AXES``); a human-labelled crop's steps are unknown (NaN)."""

    def __init__(self, crops: np.ndarray, per_crop: int, seed: int, epoch: int = 0,
                 human: list[tuple[np.ndarray, np.ndarray]] | None = None, natives: np.ndarray | None = None,
                 soft_source_share: float | None = None, cast_sd: float | None = None,
                 background_share: float = 0.0, persons: list[np.ndarray] | None = None,
                 textures: list[np.ndarray] | None = None, texture_share: float = 0.0, tiny_face_share: float = 0.0,
                 raw_grain_share: float = 0.0, local_contrast_share: float = 0.0,
                 aux_steps: list[str] | tuple[str, ...] = ()):
        self.aux_steps = list(aux_steps)
        self.crops, self.per_crop, self.seed, self.epoch = crops, per_crop, seed, epoch
        self.p_soft_source = synth.P_SOFT_SOURCE if soft_source_share is None else float(soft_source_share)
        self.cast_sd = synth.CAST_SD if cast_sd is None else float(cast_sd)
        self.background_share, self.persons = float(background_share), persons
        self.human = human or []
        self.textures, self.texture_share = textures or [], float(texture_share)
        self.tiny_face_share, self.raw_grain_share = float(tiny_face_share), float(raw_grain_share)
        self.local_contrast_share = float(local_contrast_share)
        self.natives = natives if natives is not None else np.full(len(crops), 256)

    def __len__(self) -> int:
        return len(self.crops) * self.per_crop + len(self.human) * self.per_crop

    def __getitem__(self, i: int):
        rng = np.random.default_rng([self.seed, self.epoch, i])
        n = len(self.crops) * self.per_crop
        counts = np.ones(3, np.float32)
        done: list[str] = []  # recording the steps draws nothing
        known = True
        texture = None
        if i < n and self.textures and self.texture_share > 0 and rng.random() < self.texture_share:  # else no draw
            texture = synth.texture_crop(self.textures[rng.integers(len(self.textures))], rng)
        if i >= n:  # a human-labelled crop, shown as labelled (flips only); its steps unknown (NaN)
            img, lab = self.human[(i - n) % len(self.human)]
            known = False
            img = img[:, ::-1] if rng.random() < 0.5 else img
            native = 256  # a labelled crop is judged as it is
        elif texture is not None:  # judged as a sharp 256 px photo would be
            img, lab, native = synth.sample(texture, rng, 256, done)
            counts = synth.TEXTURE_AXES
        else:
            k = i % len(self.crops)
            img, lab, native = synth.sample(self.crops[k], rng, int(self.natives[k]), done,
                                            p_soft_source=self.p_soft_source, cast_sd=self.cast_sd,
                                            background_share=self.background_share,
                                            person=self.persons[k] if self.persons is not None else None,
                                            p_tiny=self.tiny_face_share, p_raw=self.raw_grain_share,
                                            p_look=self.local_contrast_share)
        return (torch.from_numpy(np.array(img)).permute(2, 0, 1), torch.from_numpy(np.array(lab, np.float32)),
                torch.tensor(float(native)), torch.from_numpy(counts.copy()),
                torch.tensor([float(step in done) if known else math.nan for step in self.aux_steps],
                             dtype=torch.float32))


#: The least learning rate of the auxiliary read-out (``AuxHead``), whatever the network's.
AUX_LR = 1e-3


class AuxHead(torch.nn.Module):
    """A linear read-out, trained beside the network and never saved into a model file, that must
    tell which ``steps`` a sample went through from the features the quality head reads. Its loss
    makes the backbone carry what a label depends on but the pixels show faintly: a head refitted
    on version 24's features reached 0.943 focus accuracy on the test ladder when told whether each
    sample was sharpened, against 0.933 without (``scripts/probe_head.py --give sharpen``)."""

    def __init__(self, features: int, steps: list[str]):
        super().__init__()
        self.steps = list(steps)
        self.read = torch.nn.Linear(features, len(self.steps))

    def loss(self, z: torch.Tensor, flags: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean binary cross-entropy over the known flags (NaN: unknown), and the right calls per step."""
        logits = self.read(z)
        known = ~torch.isnan(flags)
        target = torch.nan_to_num(flags)
        per = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
        loss = (per * known).sum() / known.sum().clamp_min(1)
        right = (((logits > 0).float() == target) & known).sum(0)
        return loss, torch.stack([right, known.sum(0)])


def fixed_set(crops: np.ndarray, variants: int, seed: int, natives: np.ndarray | None = None,
              steps: list[list[str]] | None = None, first: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A deterministic synthetic evaluation set: ``variants`` degradations of every crop, with
    their labels and native sizes (and, into ``steps`` when given, each sample's degradations).
    ``first`` skips that many variants of every crop: a large set drawn a slice at a time is the
    same set."""
    imgs, labs, sizes = [], [], []
    for i in range(len(crops) * first, len(crops) * (first + variants)):
        k = i % len(crops)
        done: list[str] = []
        img, lab, native = synth.sample(crops[k], np.random.default_rng([seed, 10_000, i]),
                                        int(natives[k]) if natives is not None else 256, done)
        if steps is not None:
            steps.append(done)
        imgs.append(img)
        labs.append(lab)
        sizes.append(native)
    if not imgs:
        return np.zeros((0, 256, 256, 3), np.uint8), np.zeros((0, 3), np.float32), np.zeros(0, np.int64)
    return np.stack(imgs), np.stack(labs), np.array(sizes, np.int64)


def bn_set(train: Crops, samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """At least ``samples`` fixed degradations of the training crops (whole variants of every
    crop) and their native sizes: what ``precise_bn`` recomputes BatchNorm's statistics on."""
    variants = -(-samples // max(len(train.images), 1)) if samples else 0
    x, _, natives = fixed_set(train.images, variants, seed, train.natives)
    return x, natives


def _batches(imgs: np.ndarray, natives: np.ndarray, device: str, batch: int):
    """(images, native sizes) tensors on ``device``, ``batch`` samples at a time."""
    for i in range(0, len(imgs), batch):
        yield (to_tensor(imgs[i : i + batch]).to(device),
               torch.as_tensor(natives[i : i + batch], dtype=torch.float32, device=device))


@torch.no_grad()
def precise_bn(net: torch.nn.Module, imgs: np.ndarray, natives: np.ndarray, device: str, batch: int = 32) -> None:
    """Set BatchNorm's running statistics to the exact mean over fixed training samples.

    The running averages kept while training trail the weights, and grain energies are heavy-tailed,
    so they jump from batch to batch: without this, hfs's validation lighting Spearman went
    0.908 -> 0.566 -> 0.906 over three epochs (docs/models/history/iqa-fast.json, epochs 9-11).
    """
    bns = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns or not len(imgs):
        return
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    net.train()
    for x, native in _batches(imgs, natives, device, batch):
        archs.run(net, x, native)
    for m, momentum in zip(bns, momenta):
        m.momentum = momentum


@torch.no_grad()
def predict_arrays(net: torch.nn.Module, imgs: np.ndarray, natives: np.ndarray, device: str,
                   batch: int = 64) -> np.ndarray:
    net.eval()
    out = [archs.run(net, x, native).float().cpu().numpy() for x, native in _batches(imgs, natives, device, batch)]
    return np.concatenate(out) if out else np.zeros((0, 3))


@contextmanager
def serial_opencv():
    """Run OpenCV on one thread in this process and in the loader workers it forks.

    Parallelism comes from the workers; OpenCV's own thread pool would put a thread per core in each
    (15 x 16 on the GPU machine). It must be set here, before the fork: calling cv2.setNumThreads in a
    forked worker whose parent already started the pool hangs that worker (seen on OpenCV 5.0 and
    4.14, and it cost a GPU session its training run).
    """
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(before)


#: Width of the band around the 0.5 edge that ``edge_weighted_loss`` stresses.
EDGE_WIDTH = 0.15


def edge_weighted_loss(p: torch.Tensor, y: torch.Tensor, edge_weight: float = 0.0,
                       counts: torch.Tensor | None = None) -> torch.Tensor:
    """Smooth L1 per score, weighted 1 + ``edge_weight`` * exp(-((y - 0.5) / EDGE_WIDTH)^2), and by
    ``counts`` (0 for a label that must not count, such as a texture's lighting) when given.

    Good/bad accuracy and false rejects are decided at the edge: a face labelled 0.55 predicted 0.45
    is thrown away, one labelled 0.95 predicted 0.85 is not. A small network cannot be exact
    everywhere, so this spends more of it where the verdict flips; 0 gives the plain loss."""
    per = torch.nn.functional.smooth_l1_loss(p, y, beta=0.1, reduction="none")
    if not edge_weight and counts is None:
        return per.mean()
    w = 1.0 + edge_weight * torch.exp(-(((y - 0.5) / EDGE_WIDTH) ** 2))
    if counts is not None:
        w = w * counts
    return (per * w).sum() / w.sum().clamp_min(1e-6)


def device_name() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def train(opt: TrainOptions, progress=None, log=print) -> Path:
    """Train (or resume) and return the path of the exported model file."""
    with serial_opencv():
        return _train(opt, progress, log)


def _train(opt: TrainOptions, progress, log) -> Path:
    out = Path(opt.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "options.json").write_text(json.dumps(asdict(opt), indent=2))
    torch.manual_seed(opt.seed)
    dev = device_name()
    train_c = Crops.load(Path(opt.data), "train")
    val_c = Crops.load(Path(opt.data), "val")
    if len(train_c.images) == 0 and not opt.labels:
        raise ValueError(f"no training crops in {opt.data}")
    human = []
    if opt.labels:
        from PIL import Image

        by_file = read_human_labels(Path(opt.labels))
        held_out = {r["crop"] for r in read_manifest(Path(opt.data)) if r["split"] != "train"}
        skipped = 0
        for f, lab in by_file.items():
            if f in held_out:  # a validation/test crop must never be trained on, whoever labelled it
                skipped += 1
                continue
            p = Path(f) if Path(f).is_absolute() else Path(opt.data) / f
            if p.is_file():
                im = Image.open(p).convert("RGB").resize((256, 256))
                human.append((np.asarray(im), lab))
        # a human label replaces the synthetic ladder for that crop
        keep = [i for i, r in enumerate(train_c.rows) if r["crop"] not in by_file]
        train_c = Crops(train_c.images[keep], [train_c.rows[i] for i in keep])
        log(f"{len(human)} human-labelled crops (override synthetic labels); "
            f"{skipped} labels on validation/test crops left out")
        if len(train_c.images) == 0 and not human:
            raise ValueError("nothing to train on")
    val_x, val_y, val_n = fixed_set(val_c.images, opt.val_variants, opt.seed, val_c.natives)
    bn_x, bn_n = bn_set(train_c, opt.bn_samples, opt.seed + 1)
    persons = None
    if opt.background_share > 0:  # GrabCut once per crop, not per sample
        persons = [synth.person_mask(c) for c in train_c.images]
        log(f"person masks of {len(persons)} crops for relit backgrounds")
    textures = None
    if opt.textures and opt.texture_share > 0:
        textures, names = load_textures([Path(t) for t in opt.textures], log)
        if not textures:
            raise ValueError(f"no photo without a face of at least 256 px in {', '.join(opt.textures)}")
        log(f"{len(textures)} texture photos teach focus to {opt.texture_share:.0%} of samples: {', '.join(names)}")
    config = dict(opt.config)
    if opt.width and not opt.init:
        config["width"] = opt.width
    if opt.stem and not opt.init:
        config["stem"] = opt.stem
    net = archs.build(opt.arch, **config)
    if opt.init:
        src = CNNModel.from_file(opt.init)
        net = src.net
        config = src.meta.get("config", {})
        opt.arch = src.meta.get("arch", opt.arch)
        if opt.width and opt.width != getattr(net, "width", None):  # seed has no width: widen says so
            net, config = widen(net, opt.arch, config, opt.width)
            log(f"widened {opt.init} to width {opt.width} (new channels start silent)")
        if opt.stem and opt.stem != getattr(net, "stem_channels", None):  # only hfs has a stem: grow_stem says so
            net, config = grow_stem(net, opt.arch, config, opt.stem)
            log(f"grew a stem of {opt.stem} full-resolution channels onto {opt.init} (they start silent)")
    net.to(dev)
    aux = None
    if opt.aux_weight > 0 and opt.aux_steps:
        if not hasattr(net, "head_input"):
            raise ValueError(f"--aux-step needs an architecture with a feature head (hf, hfs), not {opt.arch}")
        aux = AuxHead(net.head[1].in_features, opt.aux_steps).to(dev)
        log(f"an auxiliary head learns to tell {', '.join(opt.aux_steps)} (weight {opt.aux_weight})")
    groups = [{"params": list(net.parameters())}]
    if aux is not None:  # a fresh read-out at a fine-tune's rate would take epochs to say anything
        groups.append({"params": list(aux.parameters()), "lr": max(10 * opt.lr, AUX_LR)})
    optim = torch.optim.Adam(groups, lr=opt.lr, weight_decay=opt.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda e: 0.5 * (1 + math.cos(math.pi * min(e, opt.epochs) / opt.epochs)))
    start, history, best = 0, [], -1.0
    ck = out / "last.pt"
    if ck.exists():
        state = torch.load(ck, map_location=dev, weights_only=False)
        net.load_state_dict(state["net"])
        if state.get("aux_steps", []) != (opt.aux_steps if aux is not None else []):
            raise ValueError(f"{ck} was trained with auxiliary steps {state.get('aux_steps', [])}: resume with the same")
        if aux is not None:
            aux.load_state_dict(state["aux"])
        optim.load_state_dict(state["optim"])
        sched.load_state_dict(state["sched"])
        start, history, best = state["epoch"], state["history"], state["best"]
        log(f"resumed from {ck} at epoch {start}")
    t0 = time.time()
    for epoch in range(start, opt.epochs):
        net.train()
        ds = SynthSet(train_c.images, opt.samples_per_crop, opt.seed, epoch, human, train_c.natives,
                      opt.soft_source_share, opt.cast_sd, opt.background_share, persons, textures, opt.texture_share,
                      opt.tiny_face_share, opt.raw_grain_share, opt.local_contrast_share, opt.aux_steps)
        dl = DataLoader(ds, batch_size=opt.batch, shuffle=True, num_workers=opt.workers, drop_last=True,
                        pin_memory=dev == "cuda",
                        generator=torch.Generator().manual_seed(opt.seed + epoch))
        preds, labs, losses = [], [], []
        aux_right = torch.zeros(2, len(opt.aux_steps))
        it = progress(dl, desc=f"epoch {epoch + 1}/{opt.epochs}") if progress else dl
        for x, y, native, counts, flags in it:
            x = x.to(dev, non_blocking=True).float().div_(255.0)
            y = y.to(dev, non_blocking=True)
            if aux is None:
                p = archs.run(net, x, native.to(dev))
            else:
                z = net.head_input(x, native.to(dev))
                p = torch.sigmoid(net.head(z))
            loss = edge_weighted_loss(p, y, opt.edge_weight, counts.to(dev) if textures else None)
            if aux is not None:
                aux_loss, right = aux.loss(z, flags.to(dev))
                loss = loss + opt.aux_weight * aux_loss
                aux_right += right.detach().cpu()
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            if dev == "cpu":  # a dead channel's decaying weights would slow every later CPU step
                with torch.no_grad():  # (GPUs multiply subnormals at full speed: no sync per step there)
                    flush_subnormals(net.state_dict())
            losses.append(float(loss.detach()))
            faces = counts.bool().all(1).numpy()  # the training metrics are the faces'
            preds.append(p.detach().float().cpu().numpy()[faces])
            labs.append(y.cpu().numpy()[faces])
        sched.step()
        precise_bn(net, bn_x, bn_n, dev)
        tm = metrics.iqa_metrics(np.concatenate(preds), np.concatenate(labs))
        vm = metrics.iqa_metrics(predict_arrays(net, val_x, val_n, dev), val_y) if len(val_x) else tm
        score = float(np.mean([vm[a]["accuracy"] + vm[a]["spearman"] for a in AXES]))
        history.append({"epoch": epoch + 1, "loss": float(np.mean(losses)), "train": tm, "val": vm,
                        "minutes": (time.time() - t0) / 60})
        if aux is not None:  # how well the auxiliary head tells each step on this epoch's samples
            history[-1]["aux_accuracy"] = {s: float(r / max(k, 1)) for s, r, k in zip(opt.aux_steps, *aux_right)}
        log(f"epoch {epoch + 1}: loss {np.mean(losses):.4f} | val {metrics.summary_line(vm)}")
        if score > best:
            best = score
            save_model(net, opt.arch, config, out / "best.pt", opt.name, opt.version,
                       trained={"epoch": epoch + 1, "val": vm, "data": str(opt.data)})
        torch.save({"net": net.state_dict(), "optim": optim.state_dict(), "sched": sched.state_dict(),
                    "epoch": epoch + 1, "history": history, "best": best, "arch": opt.arch, "config": config,
                    "aux": aux.state_dict() if aux is not None else None,
                    "aux_steps": opt.aux_steps if aux is not None else []}, ck)
        (out / "history.json").write_text(json.dumps(history, indent=1))
        metrics.plot_curves(history, out / "curves.png")
        if opt.max_minutes and (time.time() - t0) / 60 > opt.max_minutes:
            log(f"stopping after {opt.max_minutes} minutes (resume with --resume)")
            break
    return out / "best.pt"


def evaluate(models, data_dir: Path, split: str = "test", variants: int = 20, seed: int = 1) -> dict[str, dict]:
    """Metrics of QualityModels by label (``label#2`` for a second model of the same label), all on
    one fixed synthetic set of ``split``'s crops (made once: it is most of the time for a fast model),
    with 95% bootstrap intervals of the accuracies over the crops (``interval``)."""
    crops = Crops.load(Path(data_dir), split)
    x, y, natives = fixed_set(crops.images, variants, seed, crops.natives)
    crop_of = np.arange(len(x)) % max(len(crops.images), 1)  # fixed_set's order: variant-major
    out: dict[str, dict] = {}
    for m in models:  # two files of one name and version (candidates) both get a column: label, label#2
        label = m.label if m.label not in out else f"{m.label}#{sum(k.split('#')[0] == m.label for k in out) + 1}"
        pred = m.predict_array(x, batch=64, native_sizes=natives)
        out[label] = {**metrics.iqa_metrics(pred, y), "interval": metrics.accuracy_interval(pred, y, crop_of)}
    return out
