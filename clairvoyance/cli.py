"""The command line: a thin layer over the library. Data on stdout, progress and warnings on stderr.

Exit codes: 0 all went well, 1 some files failed, 2 usage error.
"""
from __future__ import annotations

import functools
import json
import sys
import time
from pathlib import Path

import click

from . import detection
from .errors import ClairvoyanceError, ModelFileError, UnknownModelError
from .training.synth import STEPS
from .types import AXES, Tolerances


def _err(msg: str) -> None:
    click.echo(msg, err=True)


def _model_option(f):
    return click.option("--model", "model", default=None, metavar="NAME|PATH",
                        help="Quality model: 'classical', a shipped model name, or a .pt file. "
                             "Default: the shipped learned model, else classical.")(f)


def _min_face_option(f):
    return click.option("--min-face", type=click.IntRange(0), default=detection.MIN_FACE_SIDE, show_default=True,
                        metavar="PX", help="Smallest face judged: the side of its crop in original pixels "
                                           "(about 1.5x the face). Smaller faces are left out; 0 judges all.")(f)


def _tolerance_options(f):
    """``--tolerances F N L`` and ``--verdict``, handed to the command as one ``tolerances`` (Tolerances)."""
    from .verdict import DEFAULT_RULE, RULES

    @functools.wraps(f)
    def command(*args, tolerances, verdict, **kwargs):
        return f(*args, tolerances=Tolerances(*tolerances, rule=verdict), **kwargs)

    command = click.option("--verdict", type=click.Choice(RULES), default=DEFAULT_RULE, show_default=True,
                           help="How the axes combine: budget (losses on the three axes add up, so two mild "
                                "defects can fail a face) or per-axis (each axis alone against its tolerance, "
                                "as in the 2018 report).")(command)
    return click.option("--tolerances", nargs=3, type=click.FloatRange(0, 1), default=(0.5, 0.5, 0.5),
                        show_default=True, metavar="F N L",
                        help="Focus, noise and lighting tolerances (0-1): the edge of acceptable on each axis; "
                             "higher is stricter, 0 turns an axis off.")(command)


def _get_model(name):
    from .scoring import get_model
    try:
        return get_model(name)
    except (UnknownModelError, ModelFileError) as e:  # a bad --model is a usage error (exit 2), not a crash
        raise click.BadParameter(str(e), param_hint="--model") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="clairvoyance")
def main() -> None:
    """Clairvoyance: identify the people in your photos, score focus, noise and lighting on each
    face, keep the good photos and correct the rest."""


@main.command()
@click.argument("input_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", "output_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where Final/ and the report go (default: INPUT_DIR itself).")
@_tolerance_options
@_model_option
@click.option("--detector", type=click.Choice(sorted(detection.DETECTORS)), default=detection.DEFAULT_DETECTOR,
              show_default=True, help="Face detector.")
@_min_face_option
@click.option("--policy", type=click.Choice(["all", "largest"]), default="all", show_default=True,
              help="Group photos: every face must pass (all), or only the largest face (largest).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Photos processed in parallel threads (decode, detect, score, correct).")
@click.option("--keep-crops", is_flag=True, help="Keep the 256x256 face crops in OUTPUT/crops/.")
@click.option("--no-correct", is_flag=True, help="Reject failing photos instead of correcting them.")
@click.option("--scope", type=click.Choice(["face", "image"]), default="face", show_default=True,
              help="Correct the failing faces (pasted back seamlessly) or the whole photo (tiled).")
@click.option("--dry-run", is_flag=True, help="Decide and report on stdout; write nothing.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
@click.option("--xmp", is_flag=True, help="Write an XMP sidecar next to each original: rating, colour label, scores.")
@click.option("--xmp-style", type=click.Choice(["adobe", "darktable"]), default="adobe", show_default=True,
              help="Sidecar name: IMG_1.xmp (Lightroom, Capture One) or IMG_1.CR3.xmp (darktable, digiKam).")
@click.option("--no-cache", is_flag=True, help="Score every photo again (ignore OUTPUT/.clairvoyance/cache.sqlite).")
def run(input_dir: Path, output_dir: Path | None, tolerances, model, detector, min_face, policy, workers, keep_crops,
        no_correct, scope, dry_run, quiet, xmp, xmp_style, no_cache) -> None:
    """Select the good photos of INPUT_DIR into OUTPUT/Final/ and correct the others into
    OUTPUT/Final/generated/; write OUTPUT/report.json, report.csv and report.html. A rerun only scores
    new or changed photos, and an interrupted run resumes where it stopped."""
    from tqdm import tqdm

    from .pipeline import Clairvoyance

    cv = Clairvoyance(model=_get_model(model), tolerances=tolerances, input_dir=input_dir,
                      output_dir=output_dir, detector=detector, min_face=min_face, policy=policy, workers=workers,
                      keep_crops=keep_crops, dry_run=dry_run, correct=not no_correct, scope=scope,
                      cache=not no_cache, xmp=xmp_style if xmp else None)
    t0 = time.perf_counter()
    progress = None if quiet else (lambda it, total: tqdm(it, total=total, unit="photo", file=sys.stderr))
    try:
        res = cv.run(progress=progress, log=(lambda m: None) if quiet else _err)
    except (ClairvoyanceError, OSError) as e:  # e.g. the report cannot be written: a message, not a traceback
        _err(f"error: {e}")
        sys.exit(1)
    dt = time.perf_counter() - t0
    if dry_run:
        click.echo(json.dumps(res.report, indent=2, ensure_ascii=False))
    if not quiet:
        counts = ", ".join(f"{s} {res.count(s)}" for s in ("selected", "corrected", "rejected", "no_face", "error"))
        fails = [a for r in res.images for f in r.faces for a in f.failed]
        common = max(AXES, key=fails.count) if fails else "none"
        n = len(res.images)
        _err(f"{n} photos in {dt:.1f} s ({n / dt if dt else 0:.2f} photos/s): {counts}; "
             f"most common failing axis: {common}")
        if res.pruned:
            _err(f"{'would remove' if dry_run else 'removed'} {len(res.pruned)} outputs of earlier runs whose "
                 f"verdict changed: {', '.join(res.pruned)}")
        if not dry_run:
            _err(f"results in {res.output_dir / 'Final'}; report {res.output_dir / 'report.json'}, "
                 f"contact sheet {res.output_dir / 'report.html'}")
    sys.exit(0 if res.ok else 1)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print {\"images\": [...]} as in report.json.")
@click.option("--no-detect", is_flag=True, help="Each file is already a face crop: one face, box = whole image.")
@_model_option
@click.option("--detector", type=click.Choice(sorted(detection.DETECTORS)), default=detection.DEFAULT_DETECTOR,
              show_default=True)
@_min_face_option
@_tolerance_options
def score(files, as_json, no_detect, model, detector, min_face, tolerances) -> None:
    """Score the faces in FILES; copies nothing."""
    from .api import score_files

    images = score_files(files, _get_model(model), detector, no_detect, tolerances, min_face=min_face)
    if as_json:
        click.echo(json.dumps({"images": [r.as_dict() for r in images]}, indent=2, ensure_ascii=False))
    else:
        for r in images:
            if r.error:
                click.echo(f"{r.file}\terror\t{r.error}")
            for i, f in enumerate(r.faces, 1):
                s = f.scores.as_dict()
                click.echo(f"{r.file}\tface {i}\t" + "\t".join(f"{a}={s[a]:.2f}" for a in AXES)
                           + (f"\tfailed={','.join(f.failed)}" if f.failed else ""))
    sys.exit(1 if any(r.error for r in images) else 0)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--metric", type=click.Choice([*AXES, "auto"]), default="auto", show_default=True,
              help="Axis to correct; auto corrects the axes that fail the tolerances.")
@click.option("--no-detect", is_flag=True, help="Each file is already a face crop: correct the whole image.")
@click.option("-o", "--output", "output_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@_model_option
@_tolerance_options
def correct(files, metric, no_detect, output_dir, model, tolerances) -> None:
    """Correct FILES and write OUTPUT/<stem>.png (a camera RAW: OUTPUT/<stem>.tif, 16 bits per channel,
    as `run` writes it), with the original's EXIF."""
    from .api import correct_files

    n_err = 0
    for path, dst, err in correct_files(files, metric, no_detect, output_dir, _get_model(model), tolerances):
        if err:
            n_err += 1
            _err(f"error: {path}: {err}")
        else:
            click.echo(str(dst))
    sys.exit(1 if n_err else 0)


@main.group()
def dataset() -> None:
    """Face-crop datasets for training the quality model."""


@dataset.command("build")
@click.option("--from", "sources", multiple=True, required=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path), help="Folder of photos (repeatable).")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--min-native", type=int, default=128, show_default=True,
              help="Skip faces smaller than this many pixels in the original.")
def dataset_build(sources, out, min_native) -> None:
    """Detect the faces in photos and save their crops with a manifest that keeps each crop's source photo
    and its train/val/test split (by source photo)."""
    from tqdm import tqdm

    from .training.dataset import build

    rows = build(sources, out, min_native, progress=lambda it: tqdm(it, unit="photo", file=sys.stderr), log=_err)
    by = {s: sum(r["split"] == s for r in rows) for s in ("train", "val", "test")}
    click.echo(json.dumps({"crops": len(rows), **by, "out": str(out)}))


@main.command("train-iqa")
@click.option("--data", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--labels", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Human labels (labels.csv with file,focus,noise,lighting or the studio's labels.sqlite).")
@click.option("--arch", type=click.Choice(["hf", "hfs", "seed"]), default="hf", show_default=True)
@click.option("--epochs", type=click.IntRange(1), default=30, show_default=True)
@click.option("--samples-per-crop", type=click.IntRange(1), default=8, show_default=True,
              help="Degraded samples of each crop per epoch.")
@click.option("--batch", type=click.IntRange(1), default=32, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--workers", type=click.IntRange(0), default=None, help="Data-loading processes (default: cores - 1).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("runs/iqa"), show_default=True)
@click.option("--init", default=None, metavar="NAME|PATH", help="Start from this model (fine-tuning), e.g. iqa.")
@click.option("--resume", is_flag=True, help="Continue from OUT/last.pt.")
@click.option("--max-minutes", type=float, default=None, help="Stop after this long (resume later).")
@click.option("--model-version", default="1", show_default=True,
              help="Version written into the model file (caches of older versions are not reused).")
@click.option("--edge-weight", type=click.FloatRange(0), default=0.0, show_default=True,
              help="Extra loss weight on labels near the 0.5 edge, where good/bad verdicts flip.")
@click.option("--width", type=click.IntRange(8), default=None,
              help="Network width for hf/hfs (default 32); with --init, widens that model (its scores unchanged).")
@click.option("--stem", type=click.IntRange(1), default=None,
              help="hfs: full-resolution feature channels before the 4x4 unfold; with --init, grown onto "
                   "that model (its scores unchanged).")
@click.option("--soft-source-share", type=click.FloatRange(0, 1), default=None,
              help="Share of training samples from low-resolution sources, the hardest case "
                   "(default: the ladder's 0.15; validation keeps the ladder's).")
@click.option("--cast-sd", type=click.FloatRange(0, 1), default=None,
              help="Spread (log gain) of the colour casts of training samples (default: the ladder's 0.08).")
@click.option("--background-share", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of training samples whose background is relit -3..+2 stops, the face kept "
                   "(low-key and backlit portraits; the ladder has none).")
@click.option("--textures", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of clean photos without faces (repeatable) whose sharpest crops teach focus "
                   "alone to --texture-share of samples; photos with a face are left out.")
@click.option("--texture-share", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of training samples cut from --textures.")
@click.option("--tiny-face-share", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of the small faces (a quarter of samples) drawn at 64-128 native px instead of "
                   "128-240, their blur counted in their own pixels (the ladder has none).")
@click.option("--raw-grain-share", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of grain added on the raw mosaic and demosaiced, clumped and blotchy as a "
                   "camera makes it (the ladder has none).")
@click.option("--local-contrast-share", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of training samples given an editor's local-contrast (HDR, clarity) finish after "
                   "their grain; the noise label counts what it does to the grain (the ladder has none).")
@click.option("--aux-step", "aux_steps", multiple=True, type=click.Choice(STEPS),
              help="A degradation step (repeatable) that an auxiliary head must tell from the features during "
                   "training, so the backbone carries it (e.g. sharpen); the model file keeps no trace of it.")
@click.option("--aux-weight", type=click.FloatRange(0), default=0.1, show_default=True,
              help="Weight of the auxiliary head's loss (with --aux-step).")
def train_iqa(data, labels, arch, epochs, samples_per_crop, batch, lr, seed, workers, out, init, resume,
              max_minutes, model_version, edge_weight, width, stem, soft_source_share, cast_sd, background_share,
              textures, texture_share, tiny_face_share, raw_grain_share, local_contrast_share, aux_steps,
              aux_weight) -> None:
    """Train the quality model on synthetic degradations of DATA's crops (and human labels)."""
    from tqdm import tqdm

    from .training.train_iqa import TrainOptions, train

    if (out / "last.pt").exists() and not resume:
        raise click.UsageError(f"{out} already holds a run; pass --resume to continue it or choose another --out")
    if texture_share and not textures:
        raise click.UsageError("--texture-share needs --textures")
    if width and arch == "seed" and not init:
        raise click.UsageError("--width applies to the hf and hfs architectures")
    if stem and arch != "hfs" and not init:
        raise click.UsageError("--stem applies to the hfs architecture")
    init_path = None
    if init:
        from .scoring import WEIGHTS_DIR
        init_path = str(WEIGHTS_DIR / f"{init}.pt") if (WEIGHTS_DIR / f"{init}.pt").exists() else init
    opt = TrainOptions(data=str(data), out=str(out), arch=arch, epochs=epochs, samples_per_crop=samples_per_crop,
                       batch=batch, lr=lr, seed=seed, labels=str(labels) if labels else None, init=init_path,
                       max_minutes=max_minutes, version=model_version, edge_weight=edge_weight, width=width,
                       stem=stem, soft_source_share=soft_source_share, cast_sd=cast_sd, background_share=background_share,
                       textures=[str(t) for t in textures], texture_share=texture_share,
                       tiny_face_share=tiny_face_share, raw_grain_share=raw_grain_share,
                       local_contrast_share=local_contrast_share, aux_steps=list(aux_steps), aux_weight=aux_weight,
                       **({"workers": workers} if workers is not None else {}))
    try:
        best = train(opt, progress=lambda it, desc: tqdm(it, desc=desc, leave=False, file=sys.stderr), log=_err)
    except ValueError as e:  # nothing to train on, or a network that cannot be widened
        raise click.UsageError(str(e)) from None
    click.echo(str(best))


@main.command("eval-iqa")
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--model", "models", multiple=True, metavar="NAME|PATH",
              help="Model to evaluate (repeatable); default: classical and every shipped model.")
@click.option("--split", type=click.Choice(["train", "val", "test"]), default="test", show_default=True)
@click.option("--variants", type=click.IntRange(1), default=20, show_default=True,
              help="Seeded degradations per crop.")
@click.option("--json", "as_json", is_flag=True)
@click.option("--plots", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write metrics.json and a confusion-matrix PNG per model into this folder.")
def eval_iqa(data_dir, models, split, variants, as_json, plots) -> None:
    """Print IQA metrics of models side by side on a fixed synthetic set of DATA_DIR's split."""
    from .scoring import available_models
    from .training.train_iqa import evaluate

    names = list(models) or available_models()
    res = evaluate([_get_model(n) for n in names], data_dir, split, variants)
    if plots:
        from .training.metrics import plot_confusion

        plots.mkdir(parents=True, exist_ok=True)
        (plots / "metrics.json").write_text(json.dumps(res, indent=2))
        for label, r in res.items():
            plot_confusion(r, plots / f"confusion-{label.replace('@', '-')}.png", f"{label}, {split}")
    if as_json:
        click.echo(json.dumps(res, indent=2))
        return
    rows = [("metric", *res)]
    interval = lambda r, k: "{:.3f}-{:.3f}".format(*r["interval"][k])
    for a in AXES:
        for k in ("accuracy", "within10", "spearman", "false_reject"):
            rows.append((f"{a} {k}", *(f"{r[a][k]:.3f}" for r in res.values())))
            if k == "accuracy":
                rows.append((f"{a} accuracy 95% interval", *(interval(r, a) for r in res.values())))
                rows.append((f"{a} accuracy where it decides", *(
                    "-" if r[a]["deciding_accuracy"] is None else f"{r[a]['deciding_accuracy']:.3f}" for r in res.values())))
    for key, name in (("verdict", "verdict"), ("verdict_per_axis", "verdict per-axis")):
        rows.append((f"{name} accuracy", *(f"{r[key]['accuracy']:.3f}" for r in res.values())))
        if key == "verdict":
            rows.append((f"{name} accuracy 95% interval", *(interval(r, key) for r in res.values())))
        rows.append((f"{name} false-reject", *(f"{r[key]['false_reject']:.3f}" for r in res.values())))
        for cell, what in (("pred_bad_label_good", "false-reject"), ("pred_good_label_bad", "false-accept")):
            rows.append((f"{name} {what} % of all", *(f"{r[key]['confusion'][cell]:.1f}" for r in res.values())))
    n = next(iter(res.values()))["n"]
    click.echo(f"{split} split, {n} synthetic samples ({variants} per crop); intervals: bootstrap over the crops")
    w = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("  ".join(str(c).ljust(wi) for c, wi in zip(r, w)))


@main.command("train-gan")
@click.option("--metric", "axis", required=True, type=click.Choice(list(AXES)))
@click.option("--data", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--mode", type=click.Choice(["paired", "cycle"]), default="paired", show_default=True,
              help="paired: L1 to the clean face + adversarial; cycle: unpaired CycleGAN.")
@click.option("--cycle", "cycle_in_paired", is_flag=True, help="Paired mode: add the cycle-consistency term.")
@click.option("--epochs", type=click.IntRange(1), default=20, show_default=True)
@click.option("--arch", type=click.Choice(["resnet", "unet"]), default="resnet", show_default=True,
              help="Generator: CycleGAN's ResNet, or pix2pix's U-Net (full-resolution skips, for denoising).")
@click.option("--width", type=click.IntRange(4), default=16, show_default=True, help="Generator width (ngf).")
@click.option("--blocks", type=click.IntRange(1), default=9, show_default=True,
              help="Residual blocks (resnet) or downsamplings (unet, e.g. 3).")
@click.option("--size", type=click.IntRange(32), default=96, show_default=True, help="Training patch side.")
@click.option("--batch", type=click.IntRange(1), default=8, show_default=True)
@click.option("--variants", type=click.IntRange(1), default=4, show_default=True,
              help="Degraded versions of each training crop.")
@click.option("--upsample", type=click.Choice(["resize", "deconv"]), default="resize", show_default=True,
              help="resize-convolution cannot make checkerboard artefacts.")
@click.option("--save-every", type=click.IntRange(1), default=5, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Run folder (default runs/gan-AXIS).")
@click.option("--resume", is_flag=True)
@click.option("--pick", "do_pick", is_flag=True, help="After training, keep the checkpoint best on validation.")
@click.option("--max-minutes", type=float, default=None)
def train_gan_cmd(axis, data, mode, cycle_in_paired, epochs, arch, width, blocks, size, batch, variants, upsample,
                  save_every, seed, out, resume, do_pick, max_minutes) -> None:
    """Train the corrector of one axis; saves a checkpoint and a sample grid every --save-every epochs."""
    from .correction.gan import GanOptions
    from .training.train_gan import GanTrainOptions, pick, train_gan

    out = out or Path(f"runs/gan-{axis}")
    if (out / "last.pt").exists() and not resume:
        raise click.UsageError(f"{out} already holds a run; pass --resume or choose another --out")
    opt = GanTrainOptions(data=str(data), axis=axis, out=str(out), epochs=epochs, size=size, batch=batch,
                          variants=variants, save_every=save_every, seed=seed, max_minutes=max_minutes,
                          gan=GanOptions(mode=mode, arch=arch, width=width, n_blocks=blocks, upsample=upsample,
                                         cycle_in_paired=cycle_in_paired))
    train_gan(opt, log=_err)
    if do_pick:
        click.echo(str(pick(out, data, axis, log=_err)))


@main.command("eval-gan")
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--metric", "axes", multiple=True, type=click.Choice(list(AXES)), help="Default: all three.")
@click.option("--corrector", "correctors", multiple=True, default=("classical", "learned"), show_default=True,
              metavar="classical|learned|PATH.pt")
@click.option("--split", type=click.Choice(["val", "test"]), default="test", show_default=True)
@click.option("--variants", type=click.IntRange(1), default=3, show_default=True)
@click.option("--iqa", "iqa_name", default=None, metavar="NAME|PATH",
              help="Quality model that judges the corrected faces (default: the default model).")
@click.option("--grid", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write a PNG grid per axis (input | each corrector | clean) here.")
@click.option("--json", "as_json", is_flag=True)
def eval_gan(data_dir, axes, correctors, split, variants, iqa_name, grid, as_json) -> None:
    """PSNR/SSIM gain, colour shift and IQA verdicts of correctors on held-out degraded faces."""
    import numpy as np

    from .correction import get_corrector
    from .correction.learned import GeneratorModel, LearnedCorrector
    from .scoring import get_model
    from .training.eval_correction import evaluate_corrector
    from .training.train_gan import validation_pairs

    iqa = get_model(iqa_name)
    res: dict = {}
    for axis in axes or AXES:
        bad, good = validation_pairs(data_dir, axis, variants=variants, split=split)
        outs = []
        for name in correctors:
            if name.endswith(".pt"):
                c = LearnedCorrector.__new__(LearnedCorrector)
                c.generators = {axis: GeneratorModel.from_file(name)}
                c.fallback = get_corrector("classical")
                c.version, label = Path(name).stem, Path(name).stem
            else:
                c, label = get_corrector(name), name
            m, fixed = evaluate_corrector(c, bad, good, axis, iqa)
            res.setdefault(axis, {})[label] = {**m, "iqa_model": iqa.label}
            outs.append(fixed)
        if grid:
            from PIL import Image

            grid.mkdir(parents=True, exist_ok=True)
            k = min(6, len(bad))
            rows = [np.concatenate([bad[i], *(o[i] for o in outs), good[i]], axis=1) for i in range(k)]
            Image.fromarray(np.concatenate(rows, axis=0)).save(grid / f"{axis}.png")
    if as_json:
        click.echo(json.dumps(res, indent=2))
        return
    for axis, per in res.items():
        click.echo(f"{axis} ({split} split, {next(iter(per.values()))['n']} faces, judged by {iqa.label})")
        for label, m in per.items():
            click.echo(f"  {label:12s} PSNR {m['psnr_in']:.2f} -> {m['psnr_out']:.2f} ({m['psnr_gain']:+.2f} dB)  "
                       f"SSIM {m['ssim_in']:.3f} -> {m['ssim_out']:.3f}  colour shift {m['colour_shift']:.2f}  "
                       f"IQA pass after {m.get('iqa_pass_after', float('nan')):.0%}  other axes broken "
                       f"{m.get('other_axis_broken', float('nan')):.0%}  {m['seconds_per_face'] * 1000:.0f} ms/face")


@main.command()
@click.argument("photo_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=Path("labels.sqlite"),
              show_default=True, help="SQLite file for the studio's labels (created if missing).")
@click.option("--data", "data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Dataset to label (made by `dataset build`); default: PHOTO_DIR if it holds manifest.csv.")
@_model_option
@click.option("--detector", type=click.Choice(sorted(detection.DETECTORS)), default=detection.DEFAULT_DETECTOR,
              show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. The default serves this machine only; 0.0.0.0 opens it to the network.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--max-upload-mb", type=click.FloatRange(0.1), default=50, show_default=True,
              help="Largest photo accepted by upload.")
def serve(photo_dir, db, data_dir, model, detector, host, port, max_upload_mb) -> None:
    """Start the web app: the IQA browser over PHOTO_DIR and its runs, and the labelling studio."""
    import uvicorn

    from .web import create_app

    if model is not None:
        _get_model(model)  # a bad --model is a usage error before anything starts
    open_to_all = host in ("0.0.0.0", "::")
    try:
        app = create_app(photo_dir, db, data_dir=data_dir, model=model, detector=detector,
                         max_upload_mb=max_upload_mb, hosts=("*",) if open_to_all else (host,))
    except (ClairvoyanceError, OSError) as e:
        _err(f"error: {e}")
        sys.exit(2)
    if open_to_all:
        _err("warning: listening on every network interface: anyone who can reach this machine sees your photos")
    _err(f"Clairvoyance on http://{'localhost' if open_to_all else host}:{port}/ (API docs at /docs); "
         f"labels in {db}. Ctrl+C stops it.")
    uvicorn.run(app, host=host, port=port, log_level="warning")

if __name__ == "__main__":
    main()
