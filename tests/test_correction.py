"""Correction: networks, training modes, checkpoints, the series order, blending and tiling."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from clairvoyance.correction import ORDER, Corrector, paste_back
from clairvoyance.correction.gan import CorrectionGAN, GanOptions, ImagePool
from clairvoyance.correction.learned import GeneratorModel, apply_tone_curve, fit_tone_curve
from clairvoyance.correction.networks import PatchDiscriminator, ResnetGenerator, UnetGenerator
from clairvoyance.degrade import exposure
from clairvoyance.scoring import get_model
from clairvoyance.types import Box


def test_resnet_generator_keeps_size_and_starts_as_identity():
    g = ResnetGenerator(width=8, n_blocks=9)
    assert sum(isinstance(m, torch.nn.Module) and type(m).__name__ == "ResnetBlock" for m in g.modules()) == 9
    x = torch.rand(1, 3, 64, 80) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(g(x), x)  # zero-initialised residual: no colour drift at the start


@pytest.mark.parametrize("upsample", ["resize", "deconv"])
def test_generator_upsampling_variants(upsample):
    g = ResnetGenerator(width=8, n_blocks=1, upsample=upsample)
    assert g(torch.zeros(2, 3, 32, 32)).shape == (2, 3, 32, 32)


@pytest.mark.parametrize("upsample", ["resize", "deconv"])
def test_unet_generator_keeps_size_starts_as_identity_and_skips_at_full_resolution(upsample):
    torch.manual_seed(0)
    g = UnetGenerator(width=4, n_blocks=3, upsample=upsample)
    assert g.multiple == 8
    x = torch.rand(1, 3, 40, 56) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(g(x), x)
        torch.nn.init.normal_(g.out.weight, 0, 0.1)
        # a one-pixel change at the input changes that pixel's output: full-resolution detail survives
        y = x.clone()
        y[0, :, 20, 20] += 0.5
        d = (g(y) - g(x)).abs().sum(1)[0]
    assert d[20, 20] > 0.3 and d.argmax() == 20 * 56 + 20


def test_patchgan_sees_70px_patches():
    d = PatchDiscriminator(width=8)
    assert d(torch.zeros(1, 3, 256, 256)).shape == (1, 1, 30, 30)  # the 70x70 PatchGAN's output grid


def test_image_pool_returns_a_batch_of_the_same_shape():
    pool = ImagePool(4)
    for _ in range(5):
        out = pool.query(torch.rand(3, 3, 8, 8))
        assert out.shape == (3, 3, 8, 8)


@pytest.mark.parametrize("mode,cycle", [("paired", False), ("paired", True), ("cycle", False)])
def test_one_training_step_of_each_mode_changes_the_generator(mode, cycle):
    torch.manual_seed(0)
    gan = CorrectionGAN(GanOptions(mode=mode, width=4, n_blocks=1, d_width=4, cycle_in_paired=cycle))
    before = [p.clone() for p in gan.G.parameters()]
    a, b = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    gan.set_input(a, b)
    gan.optimize_parameters()
    assert any(not torch.equal(p, q) for p, q in zip(before, gan.G.parameters()))
    assert "D" in gan.losses and ("G_l1" in gan.losses) == (mode == "paired")
    assert ("cycle" in gan.losses) == (mode == "cycle" or cycle)




@pytest.fixture()
def gan_data(tmp_path):
    from clairvoyance.training import dataset
    import cv2
    from skimage import data

    out = tmp_path / "data"
    (out / "crops").mkdir(parents=True)
    img = cv2.resize(data.astronaut()[30:230, 150:350], (256, 256))
    rows = []
    for i, split in enumerate(["train", "train", "val", "test"]):
        name = f"crops/a{i}.png"
        cv2.imwrite(str(out / name), img[:, :, ::-1])
        rows.append({"crop": name, "source": f"a{i}.png", "group": f"a{i}", "x": 0, "y": 0, "w": 256, "h": 256,
                     "native": 256, "split": split})
    dataset.write_manifest(out, rows)
    return out


@pytest.mark.parametrize("arch", ["resnet", "unet"])
def test_train_gan_cadence_pick_and_resume(gan_data, tmp_path, arch):
    from clairvoyance.training.train_gan import GanTrainOptions, pick, train_gan

    out = tmp_path / "run"
    opt = GanTrainOptions(data=str(gan_data), axis="noise", out=str(out), epochs=2, size=32, batch=2, variants=1,
                          save_every=1, filter_model=None, gan=GanOptions(arch=arch, width=4, n_blocks=1, d_width=4))
    train_gan(opt, log=lambda m: None)
    cks = sorted(p.name for p in (out / "checkpoints").glob("epoch_*"))
    assert cks == ["epoch_001.png", "epoch_001.pt", "epoch_002.png", "epoch_002.pt"]
    best = pick(out, gan_data, "noise", log=lambda m: None)
    loaded = GeneratorModel.from_file(best)
    assert loaded.axis == "noise" and loaded.meta["arch"] == arch
    assert type(loaded.net).__name__ == {"resnet": "ResnetGenerator", "unet": "UnetGenerator"}[arch]
    opt.epochs = 3
    logs = []
    train_gan(opt, log=logs.append)
    assert any("resumed at epoch 2" in m for m in logs)
    assert len(json.loads((out / "history.json").read_text())) == 3


class _Recorder(Corrector):
    def __init__(self):
        self.calls = []

    def correct_axis(self, image, axis, reference, scale):
        self.calls.append(axis)
        return image


def test_axes_are_corrected_in_series_lighting_noise_focus():
    r = _Recorder()
    r.correct(np.zeros((16, 16, 3), np.uint8), ["focus", "lighting", "noise"])
    assert r.calls == list(ORDER) == ["lighting", "noise", "focus"]


def test_paste_back_leaves_the_border_and_outside_untouched():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    where = Box(30, 20, 64, 64)
    out = paste_back(photo, np.full((64, 64, 3), 255, np.uint8), where)
    assert out.shape == photo.shape
    inside = np.zeros(photo.shape[:2], bool)
    inside[21:83, 31:93] = True
    assert np.array_equal(out[~inside], photo[~inside])  # border ring of the region and everything outside
    assert out[52, 62].min() == 255  # the centre is the patch


@pytest.mark.parametrize("arch", ["resnet", "unet"])
def test_tiled_inference_matches_whole_image_inference(arch):
    torch.manual_seed(0)
    net = ResnetGenerator(width=4, n_blocks=2) if arch == "resnet" else UnetGenerator(width=4, n_blocks=3)
    for p in net.parameters():  # a non-identity generator
        torch.nn.init.normal_(p, 0, 0.05)
    g = GeneratorModel(net, {"axis": "noise"})
    img = np.random.default_rng(1).integers(0, 255, (300, 420, 3), dtype=np.uint8)
    whole = g.apply_one(img, tile=10_000)
    tiled = g.apply_one(img, tile=256, overlap=64)  # a 2x2 grid of tiles here
    assert tiled.shape == img.shape
    change = np.abs(whole.astype(int) - img).mean()
    diff = np.abs(whole.astype(int) - tiled).mean()
    # instance norm sees each tile's statistics, so tiles differ slightly from the whole image
    assert diff < 2.5 and diff < 0.1 * change


def test_tone_curve_fitted_on_a_face_reproduces_an_exposure_change():
    from skimage import data

    face = data.astronaut()[30:230, 150:350]
    darker = exposure(face, -1.5)
    out = apply_tone_curve(darker, *fit_tone_curve(darker, face))
    assert np.abs(out.astype(int) - face).mean() < 4
    # a generator's colour cast is not copied to the photo: one curve for all channels
    tinted = np.clip(face.astype(int) * [1.0, 1.0, 0.85], 0, 255).astype(np.uint8)
    gains, gammas = fit_tone_curve(darker, tinted)
    assert np.ptp(gains) == 0 and np.ptp(gammas) == 0
    assert np.ptp(fit_tone_curve(darker, tinted, neutral=False)[0]) > 0.05


def test_learned_corrector_falls_back_to_classical_for_axes_without_a_generator(monkeypatch, tmp_path):
    from clairvoyance.correction import learned
    from clairvoyance.correction.base import get_corrector

    monkeypatch.setattr(learned, "WEIGHTS_DIR", tmp_path)  # no generators shipped here
    c = get_corrector("learned")
    assert c.generators == {}
    img = exposure(np.full((64, 64, 3), 128, np.uint8), -2.0)
    ref = img.copy()
    assert np.array_equal(c.correct_axis(img, "lighting", ref, 1.0),
                          get_corrector("classical").correct_axis(img, "lighting", ref, 1.0))


def test_classical_quality_model_goes_with_classical_correctors():
    from clairvoyance.pipeline import Clairvoyance

    assert Clairvoyance(model="classical").corrector.name == "classical"


def test_the_three_shipped_generators_load_by_name_and_are_the_default():
    from clairvoyance.correction import get_corrector

    c = get_corrector()
    assert c.name == "learned"
    assert {a: type(g.net).__name__ for a, g in c.generators.items()} == {
        "focus": "ResnetGenerator", "noise": "UnetGenerator", "lighting": "UnetGenerator"}
    face = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    for axis in ORDER:
        assert c.correct(face, [axis]).shape == face.shape


def test_eval_gan_names_the_quality_model_that_judged_the_corrections(gan_data):
    from click.testing import CliRunner

    from clairvoyance.cli import main

    args = ["eval-gan", str(gan_data), "--metric", "noise", "--corrector", "classical", "--variants", "1"]
    res = CliRunner().invoke(main, [*args, "--iqa", "classical", "--json"])
    assert res.exit_code == 0, res.output
    m = json.loads(res.output)["noise"]["classical"]
    assert m["iqa_model"] == "classical@1" and 0 <= m["iqa_pass_after"] <= 1
    text = CliRunner().invoke(main, args)
    assert text.exit_code == 0 and f"judged by {get_model(None).label}" in text.output
