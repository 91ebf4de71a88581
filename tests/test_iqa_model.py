"""The quality model: architectures, model files, the label scale, synthetic labels, training."""
from __future__ import annotations

import csv
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from clairvoyance import degrade, scale, verdict
from clairvoyance.errors import ModelFileError, UnknownModelError
from clairvoyance.scoring import archs, available_models, default_model_name, get_model
from clairvoyance.scoring.cnn import CNNModel, save_model
from clairvoyance.training import dataset, metrics, synth
from clairvoyance.training import train_iqa
from clairvoyance.training.train_iqa import TrainOptions, train
from clairvoyance.types import AXES


def _face() -> np.ndarray:
    from skimage import data
    import cv2

    img = data.astronaut()[30:230, 150:350]  # the astronaut's face with some margin
    return cv2.resize(img, (256, 256), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("arch,config", [*((a, {}) for a in sorted(archs.ARCHS)), ("hfs", {"stem": 4})])
def test_architectures_map_a_crop_batch_to_three_scores_in_unit_range(arch, config):
    net = archs.build(arch, **config).eval()
    with torch.no_grad():
        y = net(torch.rand(2, 3, 256, 256))
    assert y.shape == (2, 3)
    assert float(y.min()) >= 0 and float(y.max()) <= 1


def test_hfs_reads_the_native_size_and_costs_a_fraction_of_hf():
    torch.manual_seed(0)
    net = archs.build("hfs").eval()
    x = torch.rand(2, 3, 256, 256)
    with torch.no_grad():
        full = net(x, torch.tensor([256.0, 256.0]))
        small = net(x, torch.tensor([128.0, 128.0]))
        default = net(x)
    assert torch.equal(full, default)  # no native size means a face of at least 256 px
    assert not torch.allclose(full, small)  # the native size reaches the head

    def macs(n):
        total = 0
        def hook(m, inp, out):
            nonlocal total
            total += out.numel() // out.shape[0] * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
        hs = [m.register_forward_hook(hook) for m in n.modules() if isinstance(m, torch.nn.Conv2d)]
        with torch.no_grad():
            n(torch.rand(1, 3, 256, 256))
        for h in hs:
            h.remove()
        return total
    assert macs(net) * 5 < macs(archs.build("hf").eval())


def test_cnn_model_passes_native_sizes_to_networks_that_use_them(tmp_path):
    torch.manual_seed(0)
    net = archs.build("hfs").eval()
    save_model(net, "hfs", {}, tmp_path / "m.pt", "m", "1")
    m = CNNModel.from_file(tmp_path / "m.pt")
    crop = _face()
    big, small = m.predict([crop, crop], [900, 130])
    assert big != small
    assert m.predict([crop], [900]) == [big]
    assert np.allclose(m.predict_array([crop, crop], native_sizes=[900, 130]),
                       [[big.focus, big.noise, big.lighting], [small.focus, small.noise, small.lighting]])


def test_seed_architecture_follows_the_report():
    net = archs.SeedIQA()
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.kernel_size[0] for c in convs] == [3, 5, 7, 5, 3]  # grow then shrink
    assert [c.out_channels for c in convs] == [16, 32, 64, 32, 16]
    assert sum(isinstance(m, torch.nn.MaxPool2d) for m in net.modules()) == 3
    assert sum(isinstance(m, torch.nn.Linear) for m in net.modules()) == 2
    assert any(isinstance(m, torch.nn.Dropout) for m in net.modules())
    assert all(m.negative_slope == 0.01 for m in net.modules() if isinstance(m, torch.nn.LeakyReLU))


def test_model_file_round_trip_keeps_arch_version_and_predictions(tmp_path):
    net = archs.build("seed").eval()
    path = tmp_path / "m.pt"
    save_model(net, "seed", {}, path, "mine", "7")
    m = CNNModel.from_file(path)
    assert m.label == "mine@7"
    crop = _face()
    with torch.no_grad():
        direct = net(torch.from_numpy(crop).permute(2, 0, 1)[None].float() / 255).numpy()[0]
    s = m.predict([crop])[0]
    assert np.allclose([s.focus, s.noise, s.lighting], direct, atol=1e-5)
    assert get_model(str(path)).label == "mine@7"  # loadable by path


def test_a_broken_model_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.pt"
    torch.save({"arch": "nope", "state_dict": {}}, bad)
    with pytest.raises((ModelFileError, UnknownModelError)):
        CNNModel.from_file(bad)


def test_shipped_models_load_by_name_and_the_learned_one_is_default():
    names = available_models()
    assert {"classical", "iqa", "iqa-fast", "iqa-seed"} <= set(names)
    assert default_model_name() == "iqa-fast"
    for n, arch in (("iqa", "hf"), ("iqa-fast", "hfs"), ("iqa-seed", "seed")):
        m = get_model(n)
        assert m.name == n and m.meta["arch"] == arch
        assert (Path(__file__).parents[1] / "clairvoyance/weights" / f"{n}.pt").stat().st_size < 20e6


def test_unknown_model_names_list_the_valid_ones():
    with pytest.raises(UnknownModelError, match="classical"):
        get_model("no-such-model")


@pytest.mark.parametrize("axis,good,edge,bad", [("focus", 0.5, 1.0, 2.0), ("noise", 2, 8, 20), ("lighting", 0.3, 1.0, 2.0)])
def test_scale_anchor_points(axis, good, edge, bad):
    assert scale.score_from_strength(axis, good) >= 0.8
    assert scale.score_from_strength(axis, edge) == pytest.approx(0.5)
    assert scale.score_from_strength(axis, bad) <= 0.2
    assert scale.strength_from_score(axis, 0.5) == pytest.approx(edge)


def test_synthetic_labels_fall_as_degradation_grows():
    crop = _face()
    sig = [scale.score_from_strength("focus", s) for s in (0.3, 1, 3)]
    assert sig == sorted(sig, reverse=True)
    rng = np.random.default_rng(0)
    lv = [degrade.noise_level(crop, degrade.sensor_noise(crop, s, rng)) for s in (2, 8, 20)]
    assert lv == sorted(lv) and abs(lv[1] - 8) < 2.5
    ev = [degrade.exposure_error(crop, degrade.exposure(crop, e)) for e in (-0.3, -1, -2)]
    assert ev == sorted(ev) and abs(ev[1] - 1) < 0.35


def test_jpeg_artefacts_weigh_more_than_grain_and_quality_35_is_the_edge():
    crop = _face()
    score = lambda q: scale.score_from_strength(
        "noise", scale.noise_strength(0.0, degrade.noise_level(crop, degrade.jpeg(crop, q))))
    scores = [score(q) for q in (10, 35, 90)]
    assert scores == sorted(scores) and scores[0] < 0.35 and abs(scores[1] - 0.5) < 0.1 and scores[2] >= 0.75
    assert scale.noise_strength(3.0, 3.0) == pytest.approx(3.0)  # grain alone counts by its RMS
    assert scale.noise_strength(3.0, 2.0) == pytest.approx(3.0)  # JPEG that smooths grain takes nothing off
    assert scale.noise_strength(3.0, 5.0) == pytest.approx(math.hypot(3.0, scale.COMPRESSION_WEIGHT * 4.0))
    rng = np.random.default_rng(4)
    ratios = []  # the ladder's labels follow: a JPEG'd face counts at least its RMS, grain alone exactly it
    for _ in range(40):
        img, grainy = synth.noise(crop, rng)
        total, strength = degrade.noise_level(crop, img), scale.noise_strength(degrade.noise_level(crop, grainy),
                                                                              degrade.noise_level(crop, img))
        if img is grainy:
            assert strength == pytest.approx(total)
        else:
            ratios.append(strength / total)
    assert ratios and min(ratios) >= 1.0 - 1e-6 and max(ratios) > 1.5


@pytest.mark.parametrize("sigma", [0.4, 1.0, 2.5])
def test_equivalent_blur_sigma_recovers_a_gaussian_blur(sigma):
    crop = _face()
    assert degrade.equivalent_blur_sigma(crop, crop) == 0.0
    assert degrade.equivalent_blur_sigma(crop, degrade.gaussian_blur(crop, sigma)) == pytest.approx(sigma, rel=0.15)


def test_every_blur_kind_labelled_sigma_softens_a_face_about_as_a_gaussian_of_sigma_does():
    """The focus label treats a disk, a streak and a Gaussian of one equivalent sigma alike, so they
    must soften a face alike. Measured by the gradient energy left on the face: a disk of sigma r/2
    matches within 5%; a streak labelled L/sqrt(24) (the Gaussian with its second moment) keeps more,
    as its cross direction stays sharp, but far less than its along-streak std L/sqrt(12) implied."""
    import cv2

    crop = _face()

    def energy(img):
        g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
        return float((cv2.Sobel(g, cv2.CV_32F, 1, 0) ** 2 + cv2.Sobel(g, cv2.CV_32F, 0, 1) ** 2)[32:224, 32:224].mean())

    streaks = disks = 0
    for i in range(80):
        rng = np.random.default_rng([11, i])
        img, sigma, kind = synth.blur(crop, rng)
        if not 0.8 <= sigma <= 2.2:
            continue
        ratio = energy(img) / energy(degrade.gaussian_blur(crop, sigma))
        if kind == "motion":
            streaks += 1
            old = energy(img) / energy(degrade.gaussian_blur(crop, sigma * math.sqrt(2.0)))
            assert 1.0 <= ratio < 1.45 and ratio - 1 < 0.6 * (old - 1), (i, sigma, ratio, old)
        else:
            disks += 1
            assert ratio == pytest.approx(1.0, abs=0.05), (i, kind, sigma, ratio)
    assert streaks >= 3 and disks >= 8
    assert scale.blur_sigma_from_motion(2.0 * math.sqrt(24.0)) == pytest.approx(2.0)
    # the rasterised kernels measure what the scale's formulas say (anti-aliasing adds a little)
    assert degrade.kernel_sigma(degrade.disk_kernel(4.0)) == pytest.approx(scale.blur_sigma_from_disk(4.0), rel=0.05)
    for angle in (0, 45, 90):
        assert degrade.kernel_sigma(degrade.motion_kernel(2.0 * math.sqrt(24.0), angle)) == pytest.approx(2.0, rel=0.06)


def test_camera_shake_is_a_curved_path_of_the_asked_strength():
    rng = np.random.default_rng(3)
    for sigma in (0.5, 1.0, 2.0, 4.0):
        kernels = [degrade.shake_kernel(sigma, rng) for _ in range(20)]
        assert all(k.sum() == pytest.approx(1.0, abs=1e-5) and k.shape[0] % 2 == 1 for k in kernels)
        assert all(degrade.kernel_sigma(k) == pytest.approx(sigma, rel=0.1) for k in kernels)
    # a streak's second moments lie along one line; most shake paths bend in both directions
    def spread(k):  # the smaller over the larger eigenvalue of the kernel's second-moment matrix
        yy, xx = np.mgrid[: k.shape[0], : k.shape[1]] - k.shape[0] // 2
        c = np.cov(np.stack([xx.ravel(), yy.ravel()]), aweights=k.ravel())
        e = np.linalg.eigvalsh(c)
        return e[0] / e[1]
    assert spread(degrade.motion_kernel(12.0, 0.0)) < 0.02
    assert np.median([spread(degrade.shake_kernel(3.0, rng)) for _ in range(20)]) > 0.1


def test_raw_grain_is_demosaiced_clumped_and_leaves_the_face_as_it_was():
    crop, rng = _face(), np.random.default_rng(4)
    assert degrade.noise_level(crop, degrade.raw_noise(crop, 0.0, rng)) < 0.5  # no grain, no change
    levels = [degrade.noise_level(crop, degrade.raw_noise(crop, g, rng)) for g in (0.0005, 0.002, 0.008)]
    assert 1 < levels[0] < levels[1] < levels[2] < 20

    def neighbour_correlation(noisy):  # of the grain's luminance between horizontal neighbours
        d = noisy.astype(np.float32).mean(2) - crop.astype(np.float32).mean(2)
        return float(np.corrcoef(d[:, :-1].ravel(), d[:, 1:].ravel())[0, 1])
    assert neighbour_correlation(degrade.raw_noise(crop, 0.008, rng)) > 0.3
    assert abs(neighbour_correlation(degrade.sensor_noise(crop, 10.0, rng))) < 0.1
    # only the grain is demosaiced: averaged over many draws, the face's detail is all there
    mean = np.mean([degrade.raw_noise(crop, 0.002, np.random.default_rng(i)).astype(np.float32) for i in range(32)], 0)
    assert degrade.equivalent_blur_sigma(crop, np.clip(mean + 0.5, 0, 255).astype(np.uint8)) < 0.25


def test_training_can_add_raw_grain_without_changing_the_ladder():
    from clairvoyance.training.train_iqa import SynthSet

    crop = _face()
    rng = lambda i: np.random.default_rng([6, i])
    for i in range(8):  # no share: the ladder's sample, draw for draw
        assert np.array_equal(synth.sample(crop, rng(i))[0], synth.sample(crop, rng(i), p_raw=0.0)[0])
    changed, labels = 0, []
    for i in range(40):
        steps: list[str] = []
        img, lab, _ = synth.sample(crop, rng(i), 256, steps, p_raw=1.0)
        if "noise" in steps or "noise_at_native" in steps:
            changed += not np.array_equal(img, synth.sample(crop, rng(i))[0])
            labels.append(float(lab[1]))
    assert changed >= 10 and min(labels) < 0.5 < max(labels)
    # a raw grain's label is its measured strength, as any grain's
    seed = next(i for i in range(20) if np.random.default_rng(i).random() < 0.8)  # a grain is drawn
    out, grainy = synth.noise(crop, np.random.default_rng(seed), p_raw=1.0)
    assert degrade.noise_level(crop, grainy) > 0.5
    assert SynthSet(crop[None], 4, 5, raw_grain_share=0.3).raw_grain_share == 0.3


def test_training_can_add_a_local_contrast_finish_whose_grain_counts_and_not_the_face():
    """An HDR or clarity look raises grain (counted as noise) and the face's own texture (not)."""
    from clairvoyance.training.train_iqa import SynthSet

    crop = _face()
    rng = lambda i: np.random.default_rng([8, i])
    for i in range(8):  # no share: the ladder's sample, draw for draw
        assert np.array_equal(synth.sample(crop, rng(i))[0], synth.sample(crop, rng(i), p_look=0.0)[0])
    clean_looks = 0
    for i in range(60):
        steps: list[str] = []
        img, lab, _ = synth.sample(crop, rng(i), 256, steps, p_look=1.0)
        assert ("local_contrast" in steps) != ("soft_source" in steps)
        if not {"noise", "noise_at_native", "soft_source"} & set(steps):
            clean_looks += 1
            assert lab[1] == pytest.approx(1.0, abs=1e-3)  # the face's texture, raised, is not grain
        if "local_contrast" in steps and "light" not in steps:
            assert lab[2] > 0.8  # a finish on a well-exposed face barely moves its exposure
    assert clean_looks >= 3
    look = lambda a: degrade.local_contrast(a, 4.0)
    on = degrade.face_mask(256) > 0.5  # and it lifts a dark face: its lighting is measured after it
    dark = degrade.exposure(crop, -2.0)
    assert degrade.exposure_error(crop, look(dark), on) < degrade.exposure_error(crop, dark, on) - 0.3
    seed = next(i for i in range(20) if np.random.default_rng(i).random() < 0.8)  # a grain is drawn
    _, plain = synth.noise(crop, np.random.default_rng(seed))
    _, finished = synth.noise(crop, np.random.default_rng(seed), look)  # the same grain, then the look
    assert degrade.noise_level(look(crop), finished) > 1.2 * degrade.noise_level(crop, plain)
    assert SynthSet(crop[None], 4, 5, local_contrast_share=0.2).local_contrast_share == 0.2


def _script_on_test_split(data: Path, script: str, model: str, timeout: int = 240) -> list[str]:
    """Run ``scripts/<script>`` on DATA's crops, all moved to the test split, with ``--model``;
    return its stdout lines (the command must succeed)."""
    rows = dataset.read_manifest(data)
    dataset.write_manifest(data, [{**r, "split": "test"} for r in rows])
    path = Path(__file__).resolve().parents[1] / "scripts" / script
    done = subprocess.run([sys.executable, str(path), str(data), "--model", model],
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()


def test_probe_camera_reports_shake_and_raw_grain_beside_the_ladder_kind(tiny_data):
    lines = _script_on_test_split(tiny_data, "probe_camera.py", "classical", timeout=300)[1:]
    assert len(lines) == 2 * 5 + 2 * 7 and all("| classical@1" in line for line in lines)
    shake = [line for line in lines if "shake path" in line]
    assert "label 1.00" not in shake[0] and float(shake[-1].split("label ")[1].split()[0]) < 0.2
    grain = [line for line in lines if line.startswith("noise: raw grain 0 ")]
    assert grain and "label 1.00 pass 100%" in grain[0]


def test_probe_looks_prints_each_look_with_its_label_texture_and_scores(tiny_data):
    lines = _script_on_test_split(tiny_data, "probe_looks.py", "classical")
    looks = lines[1:]
    assert lines[0].endswith("clean test-split faces with a photographer's look") and len(looks) == 11
    assert all("| classical@1 focus " in line for line in looks)
    assert looks[0].startswith("as they are") and "lighting label 1.00, fine texture x1.00" in looks[0]
    texture = {line[:26].strip(): float(line.split("fine texture x")[1].split()[0]) for line in looks}
    assert texture["local contrast, CLAHE 4"] > texture["local contrast, CLAHE 2"] > 1.2
    assert texture["skin smoothed, 80"] < 1.0 and texture["half the colour"] == pytest.approx(1.0, abs=0.05)


def test_a_face_from_a_low_resolution_source_fails_focus_more_the_smaller_it_was():
    crop = _face()
    import cv2

    def from_side(n):  # a source n px wide, upscaled back to the crop's 256 px
        return cv2.resize(cv2.resize(crop, (n, n), interpolation=cv2.INTER_AREA), (256, 256),
                          interpolation=cv2.INTER_CUBIC)

    sig = [degrade.equivalent_blur_sigma(crop, from_side(n)) for n in (200, 96, 48)]
    assert sig == sorted(sig) and sig[0] < 0.8 and sig[2] > 2.0  # 48 px upscaled to 256 fails; 200 px passes
    # the second-order chain: labels follow what was done, and such a face is rarely labelled sharp
    labels = []
    for i in range(12):
        img, s, n = synth.soft_source(crop, np.random.default_rng([7, i]))
        assert img.shape == crop.shape and s > 0.3 and n >= 0
        labels.append(scale.score_from_strength("focus", s))
    assert np.mean(np.array(labels) < 0.5) >= 0.5


def test_texture_smoothing_costs_focus_but_keeps_edges():
    import cv2

    crop = _face()
    small = cv2.resize(crop, (160, 160), interpolation=cv2.INTER_AREA)
    up = lambda a: cv2.resize(a, (256, 256), interpolation=cv2.INTER_CUBIC)
    plain = degrade.equivalent_blur_sigma(crop, up(small))
    waxy = degrade.equivalent_blur_sigma(crop, up(degrade.smooth_texture(small, 9, 80)))
    assert waxy > plain + 0.2  # a denoised or codec-flattened face scores lower focus than its resolution alone
    step = np.zeros((64, 64, 3), np.uint8)
    step[:, 32:] = 200
    assert np.array_equal(degrade.smooth_texture(step, 9, 80), step)  # a strong edge survives untouched


def test_a_small_face_degraded_at_its_native_size_has_stretched_jpeg_blocks():
    crop = _face()
    (out,), before = synth.at_native(crop, 128, lambda a: (degrade.jpeg(a, 10),))
    assert out.shape == before.shape == (256, 256, 3) and degrade.noise_level(before, out) > 2
    # 8x8 blocks at 128 px become 16x16 on the crop: the seams fall every 16 columns
    jump = np.abs(np.diff(out.astype(float).mean(2), axis=1)).mean(0)
    seams = jump[15::16].mean()
    assert seams > 1.5 * np.delete(jump, np.s_[15::16]).mean()
    assert jump[7::16].mean() < seams  # not at the 8 px spacing JPEG on the crop itself would give


def _seams(img: np.ndarray) -> np.ndarray:
    """Mean jump across each column boundary, folded onto the 8 px JPEG period."""
    jump = np.abs(np.diff(img.astype(float).mean(2), axis=1)).mean(0)
    return np.array([jump[k::8].mean() for k in range(8)])


@pytest.mark.parametrize("dx", [0, 3, 5])
def test_jpeg_puts_its_block_grid_where_the_phase_says(dx):
    """A face cropped from a photo lands anywhere on its photo's 8x8 grid: ``phase`` moves the seams."""
    crop = _face()
    out = degrade.jpeg(crop, 10, (2, dx))
    assert out.shape == crop.shape
    seams = _seams(out)
    assert int(np.argmax(seams)) == (7 - dx) % 8 and seams.max() > 1.5 * np.median(seams)


def test_the_ladder_draws_jpeg_grids_anywhere_and_leaves_its_other_draws_as_they_were():
    crop = _face()
    where = set()
    for i in range(40):
        rng = np.random.default_rng([3, i])
        img, grainy = synth.noise(crop, rng)
        if img is not grainy:
            where.add(int(np.argmax(_seams(img))))
    assert len(where) >= 4  # not always on the crop's own block boundaries
    a, b = np.random.default_rng([5, 1]), np.random.default_rng([5, 1])
    synth.grid_phase(a)
    assert a.random() == b.random()  # the phase comes from a child generator: later draws are unchanged


def test_sharpening_adds_edge_contrast_but_not_the_detail_a_blur_took_so_focus_labels_ignore_it():
    """A sharpened soft face (camera JPEG, TV still) has crisp edges and no fine detail. The ladder
    keeps its blur label, so a model cannot learn that crisp edges alone mean focus."""
    import cv2

    crop = _face()
    soft = degrade.gaussian_blur(crop, 1.5)
    sharp = degrade.unsharp_mask(soft, 1.5, 2.0)

    def band(img, lo, hi):  # luminance detail between two Gaussian scales, on the face
        g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
        d = cv2.GaussianBlur(g, (0, 0), lo) - cv2.GaussianBlur(g, (0, 0), hi)
        return float(d[64:192, 64:192].std())

    assert band(sharp, 0.8, 2.5) > 1.5 * band(soft, 0.8, 2.5)  # edges come back crisper ...
    fine = lambda img: band(img, 0.01, 0.6)
    assert fine(sharp) < 0.7 * fine(crop)  # ... the finest detail does not
    assert np.array_equal(degrade.unsharp_mask(np.full((8, 8, 3), 77, np.uint8), 1.0, 2.0),
                          np.full((8, 8, 3), 77, np.uint8))  # flat areas are left alone
    # the same draws with and without sharpening: focus measured alike, grain amplified
    sharpen = lambda a: degrade.unsharp_mask(a, 1.2, 1.5)
    for i in range(6):  # a soft source sharpened at its low resolution or after its upscale
        plain = synth.soft_source(crop, np.random.default_rng([8, i]))
        for after_upscale in (False, True):
            sharpened = synth.soft_source(crop, np.random.default_rng([8, i]), sharpen, after_upscale)
            assert sharpened[1] == plain[1] and sharpened[2] >= plain[2]
            assert not np.array_equal(sharpened[0], plain[0])
    grainy = synth.noise(crop, np.random.default_rng([1, 2]))[1]
    amplified = synth.noise(crop, np.random.default_rng([1, 2]), sharpen)[1]
    assert degrade.noise_level(sharpen(crop), amplified) > 1.3 * degrade.noise_level(crop, grainy)
    for share in (synth.P_SHARPEN, synth.P_SHARPEN_SOFT_SOURCE):
        made = [synth.sharpener(np.random.default_rng([4, i]), share) is not None for i in range(400)]
        assert abs(np.mean(made) - share) < 0.07


def test_training_can_show_more_low_resolution_sources_than_the_ladder_has():
    from clairvoyance.training.train_iqa import SynthSet

    crop = _face()

    def soft_share(p):
        steps = [[] for _ in range(60)]
        for i, done in enumerate(steps):
            synth.sample(crop, np.random.default_rng([3, i]), 256, done, p_soft_source=p)
        return np.mean(["soft_source" in done for done in steps])

    assert soft_share(1.0) == 1.0 and soft_share(0.0) == 0.0
    assert SynthSet(crop[None], 4, 3).p_soft_source == synth.P_SOFT_SOURCE  # by default the ladder's
    img, lab, *_ = SynthSet(crop[None], 4, 3, soft_source_share=1.0, cast_sd=0.3)[1]  # drawn with its settings
    ref, ref_lab, _ = synth.sample(crop, np.random.default_rng([3, 0, 1]), 256, p_soft_source=1.0, cast_sd=0.3)
    assert np.array_equal(img.permute(1, 2, 0).numpy(), ref) and np.allclose(lab.numpy(), ref_lab)


def test_training_can_show_stronger_colour_casts_without_changing_the_ladder():
    crop = _face()

    def cast(sd):  # spread of the channels' mean log ratio to green over colour samples
        out = []
        for i in range(40):
            img = synth.augment(crop, np.random.default_rng([5, i]), sd).astype(np.float32) + 1
            if np.ptp(img, axis=2).max() > 2:  # not black and white
                out.append(np.log(img[..., 0].mean() / img[..., 1].mean()))
        return np.std(out)

    assert cast(0.3) > 2 * cast(synth.CAST_SD)
    a = synth.augment(crop, np.random.default_rng([5, 1]))
    assert np.array_equal(a, synth.augment(crop, np.random.default_rng([5, 1]), synth.CAST_SD))  # the default


def test_augmentation_makes_some_faces_black_and_white_without_changing_their_exposure(monkeypatch):
    """A monochrome print is a style: clean black-and-white faces must pass on lighting, so the
    ladder shows the network some, their exposure (and so their labels) left as it was."""
    crop = _face()
    grey = [synth.augment(crop, np.random.default_rng([6, i])) for i in range(400)]
    grey = [img for img in grey if np.ptp(img.astype(int), axis=2).max() <= 1]
    assert abs(len(grey) / 400 - synth.P_MONOCHROME / 2) < 0.03  # half of them untoned
    monkeypatch.setattr(synth, "P_MONOCHROME", 1.0)
    for i in range(8):
        img = synth.augment(crop, np.random.default_rng([6, i]))
        lin = degrade.srgb_to_linear(img)[64:192, 64:192].reshape(-1, 3)
        ratio = lin / np.maximum(lin.mean(axis=1, keepdims=True), 1e-3)
        assert ratio[lin.mean(axis=1) > 0.05].std(axis=0).max() < 0.05  # one tone everywhere: no colour left
    rng = np.random.default_rng(2)
    for tone in (None, np.array([1.25, 1.0, 0.7]), None, np.array([0.9, 1.0, 1.1])):
        weights = rng.dirichlet(degrade.LUMA * 20)  # a red, green or blue filter; the face's exposure stays
        assert abs(degrade.exposure_error(crop, degrade.monochrome(crop, weights, tone), degrade.face_mask(256) > 0.5)) < 0.15


def test_bokeh_keeps_the_focus_label_and_the_face_sharp():
    crop = _face()
    rng = np.random.default_rng(1)
    out = synth.bokeh(crop, rng)
    m = degrade.face_mask(256, feather=0.2) >= 1.0  # the core of the face for any feather bokeh uses
    assert np.abs(out[m].astype(int) - crop[m]).max() <= 1          # face untouched
    assert np.abs(out[~(degrade.face_mask(256) > 0)].astype(int) - crop[~(degrade.face_mask(256) > 0)]).mean() > 1


def test_sample_returns_a_crop_three_labels_and_a_native_size_deterministically():
    crop = _face()
    a = synth.sample(crop, np.random.default_rng([3, 4]), 900)
    b = synth.sample(crop, np.random.default_rng([3, 4]), 900)
    assert a[0].shape == (256, 256, 3) and a[0].dtype == np.uint8 and a[1].shape == (3,)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]
    assert ((a[1] >= 0) & (a[1] <= 1)).all()
    natives = {synth.sample(crop, np.random.default_rng([5, i]), 900)[2] for i in range(40)}
    assert 256 in natives and any(128 <= n < 240 for n in natives)  # upscaled small faces say so
    assert all(n <= 150 for n in {synth.sample(crop, np.random.default_rng([5, i]), 150)[2] for i in range(10)})


def test_sample_names_the_degradations_it_applied():
    crop = _face()
    seen = set()
    for i in range(60):
        steps: list[str] = []
        img, lab, native = synth.sample(crop, np.random.default_rng([9, i]), 900, steps)
        seen.update(steps)
        assert ("small_face" in steps) == (native < 256)
        assert ("blur" in steps or "soft_source" in steps) == (lab[0] < 1.0)  # only these cost focus
        assert ("light" in steps) == (lab[2] < 1.0)
        assert ("blur" in steps) == any(s.startswith("blur_") for s in steps)  # and which kind
        assert not {"blur", "bokeh"} & set(steps) or "soft_source" not in steps  # a soft source has no lens blur
    assert {"small_face", "blur", "bokeh", "light", "soft_source", "noise", "noise_at_native", "sharpen"} <= seen
    assert {"blur_gaussian", "blur_defocus", "blur_motion"} <= seen
    steps_of_set: list[list[str]] = []
    x, y, n = train_iqa.fixed_set(np.stack([crop]), 3, 0, None, steps_of_set)
    assert len(steps_of_set) == len(x) == 3


def test_split_is_by_source_photo_group():
    assert dataset.group_of("frl_london/neutral/001_03.jpg") == dataset.group_of("frl_london/smiling/001_08.jpg")
    assert dataset.group_of("fr/obama-720p.jpg") == dataset.group_of("fr/obama-1080p.jpg")
    assert dataset.split_of("x/a") == dataset.split_of("x/a")
    splits = [dataset.split_of(f"g{i}") for i in range(400)]
    assert 0.6 < splits.count("train") / 400 < 0.8 and splits.count("test") > 30


def test_metrics_report_accuracy_within10_spearman_and_false_rejects():
    label = np.array([[0.9, 0.9, 0.9], [0.2, 0.9, 0.9], [0.9, 0.9, 0.1], [0.7, 0.6, 0.8]])
    pred = np.array([[0.85, 0.95, 0.9], [0.3, 0.8, 0.9], [0.9, 0.9, 0.6], [0.4, 0.6, 0.8]])
    m = metrics.iqa_metrics(pred, label)
    assert m["focus"]["accuracy"] == 0.75 and m["lighting"]["accuracy"] == 0.75
    # where an axis decides (the others labelled good): focus on faces 1, 2, 4; lighting on 1, 3, 4
    assert m["focus"]["deciding_n"] == 3 and m["focus"]["deciding_accuracy"] == pytest.approx(2 / 3)
    assert m["lighting"]["deciding_accuracy"] == pytest.approx(2 / 3) and m["noise"]["deciding_accuracy"] == 1.0
    # the report's rule: of two truly good faces, one is thrown away
    assert m["verdict_per_axis"]["false_reject"] == 0.5
    # the budget rule: the last face's mild losses add up to 1.8 allowances, so it is truly bad (and
    # predicted bad): the one good face is kept
    assert m["verdict"]["false_reject"] == 0.0 and m["verdict"]["accuracy"] == 1.0
    assert m["verdict"]["confusion"]["pred_bad_label_bad"] == 75.0
    for v in ("verdict", "verdict_per_axis"):
        assert sum(m[v]["confusion"].values()) == pytest.approx(100)


@pytest.fixture()
def tiny_data(tmp_path):
    from matplotlib import cbook
    from PIL import Image
    from skimage import data

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(data.astronaut()).save(photos / "astronaut.png")
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        Image.open(f).convert("RGB").save(photos / "hopper.jpg")
    out = tmp_path / "data"
    rows = dataset.build([photos], out, log=lambda m: None)
    for r in rows:  # put both crops in train (the hash split of 2 groups is arbitrary)
        r["split"] = "train"
    rows.append({**rows[0], "split": "val"})
    dataset.write_manifest(out, rows)
    return out


def test_dataset_build_saves_crops_with_their_source_photo(tiny_data):
    rows = dataset.read_manifest(tiny_data)
    assert {r["source"] for r in rows} == {"photos/astronaut.png", "photos/hopper.jpg"}
    assert all((tiny_data / r["crop"]).is_file() for r in rows)


def test_eval_iqa_prints_both_verdict_rules_side_by_side_and_writes_plots(tiny_data, tmp_path):
    import json

    from click.testing import CliRunner

    from clairvoyance.cli import main

    r = CliRunner().invoke(main, ["eval-iqa", str(tiny_data), "--model", "classical", "--model", "iqa-fast",
                                  "--split", "train", "--variants", "6", "--plots", str(tmp_path / "plots")],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "train split, 12 synthetic samples (6 per crop)" in r.output
    for row in ("verdict accuracy", "verdict false-accept % of all", "verdict per-axis false-reject % of all",
                "focus accuracy 95% interval", "focus accuracy where it decides", "verdict accuracy 95% interval"):
        assert any(line.startswith(row + " ") for line in r.output.splitlines()), row
    res = json.loads((tmp_path / "plots" / "metrics.json").read_text())
    fast = get_model("iqa-fast").label
    assert set(res) == {"classical@1", fast}
    for m in res.values():  # fewer faces are good when mild losses add up
        good = {v: m[v]["confusion"]["pred_good_label_good"] + m[v]["confusion"]["pred_bad_label_good"]
                for v in ("verdict", "verdict_per_axis")}
        assert good["verdict"] <= good["verdict_per_axis"]
    assert sorted(p.name for p in (tmp_path / "plots").glob("*.png")) == [
        "confusion-classical-1.png", f"confusion-{fast.replace('@', '-')}.png"]


def test_accuracy_intervals_resample_whole_crops():
    from clairvoyance.training import metrics

    rng = np.random.default_rng(0)
    label = rng.uniform(0, 1, (600, 3))
    groups = np.arange(600) % 30
    hard = groups < 6  # a fifth of the faces are always judged wrong on focus
    pred = label.copy()
    pred[hard, 0] = 1 - label[hard, 0]
    acc = metrics.iqa_metrics(pred, label)["focus"]["accuracy"]
    interval = metrics.accuracy_interval(pred, label, groups)
    assert interval["focus"][0] < acc < interval["focus"][1] and interval["noise"] == [1.0, 1.0]
    assert interval["focus"][1] - interval["focus"][0] > 0.15  # six faces decide it: wide
    shuffled = metrics.accuracy_interval(pred, label, rng.permutation(groups))  # errors spread over faces
    assert shuffled["focus"][1] - shuffled["focus"][0] < interval["focus"][1] - interval["focus"][0]


def test_one_training_epoch_on_cpu_writes_checkpoint_plots_and_resumes(tiny_data, tmp_path):
    out = tmp_path / "run"
    opt = TrainOptions(data=str(tiny_data), out=str(out), arch="seed", epochs=1, samples_per_crop=1, batch=2,
                       workers=0, val_variants=1)
    best = train(opt, log=lambda m: None)
    assert CNNModel.from_file(best).meta["arch"] == "seed"
    for f in ("last.pt", "history.json", "curves.png", "options.json"):
        assert (out / f).is_file()
    opt.epochs = 2
    logs = []
    train(opt, log=logs.append)
    assert any("resumed" in m for m in logs)
    assert len(__import__("json").loads((out / "history.json").read_text())) == 2
    # either epoch exports as a named model file; the last one carries the checkpoint's weights
    script = Path(__file__).resolve().parents[1] / "scripts" / "export_model.py"
    for which in ("best", "last"):
        f = tmp_path / f"{which}-export.pt"
        done = subprocess.run([sys.executable, str(script), str(out), "--epoch", which, "--name", "iqa-seed",
                               "--version", "7", "--out", str(f)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        m = CNNModel.from_file(f)
        assert (m.meta["name"], m.version, m.meta["arch"]) == ("iqa-seed", "7", "seed")
    last = torch.load(out / "last.pt", map_location="cpu", weights_only=False)
    assert m.meta["trained"]["epoch"] == 2 and all(torch.equal(v, last["net"][k]) for k, v in m.net.state_dict().items())


def test_training_with_loader_workers_after_opencv_started_its_threads(tiny_data, tmp_path):
    """Training with loader workers finishes after this process started OpenCV's thread pool, and
    leaves OpenCV's thread count as it was. Setting it inside a forked worker instead hung a GPU run.
    Runs in a child process with a timeout, so that a regression fails instead of hanging the suite."""
    script = f"""
import cv2, numpy as np
from clairvoyance.training import train_iqa
from clairvoyance.training.train_iqa import TrainOptions, train
from clairvoyance.types import AXES
cv2.GaussianBlur(np.random.rand(2048, 2048).astype(np.float32), (0, 0), 3)  # starts the pool
threads = cv2.getNumThreads()
train(TrainOptions(data={str(tiny_data)!r}, out={str(tmp_path / "run")!r}, arch="hfs", epochs=1,
                   samples_per_crop=4, batch=2, workers=2, val_variants=1, bn_samples=2), log=print)
print("threads kept", cv2.getNumThreads() == threads)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "epoch 1:" in done.stdout and "threads kept True" in done.stdout


def test_human_labels_from_csv_join_training(tiny_data, tmp_path):
    rows = dataset.read_manifest(tiny_data)
    labels = tmp_path / "labels.csv"
    with open(labels, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "focus", "noise", "lighting"])
        w.writerow([rows[1]["crop"], 0.1, 0.9, 0.8])  # rows[0] doubles as the validation crop
    logs = []
    # hfs: synthetic and human samples carry native sizes through the loader into the network
    opt = TrainOptions(data=str(tiny_data), out=str(tmp_path / "run"), arch="hfs", epochs=1, samples_per_crop=1,
                       batch=2, workers=0, val_variants=1, labels=str(labels))
    best = train(opt, log=logs.append)
    assert any("1 human-labelled" in m for m in logs)
    assert CNNModel.from_file(best).meta["arch"] == "hfs"


def test_precise_bn_sets_running_means_to_the_training_samples_mean_and_restores_momentum():
    from clairvoyance.training.train_iqa import precise_bn

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.BatchNorm2d(4)).eval()
    imgs = np.random.default_rng(0).integers(0, 256, (4, 256, 256, 3), dtype=np.uint8)
    precise_bn(net, imgs, np.full(4, 256), "cpu", batch=2)
    with torch.no_grad():
        feats = net[0](torch.from_numpy(imgs).permute(0, 3, 1, 2).float() / 255)
    assert torch.allclose(net[1].running_mean, feats.mean((0, 2, 3)), atol=1e-5)
    assert net[1].momentum == 0.1


def test_averaging_two_models_interpolates_weights_and_keeps_the_best_on_validation(tiny_data, tmp_path):
    script = Path(__file__).resolve().parents[1] / "scripts" / "average_models.py"
    paths = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        paths.append(tmp_path / f"m{seed}.pt")
        save_model(archs.build("hfs"), "hfs", {}, paths[-1], "iqa-fast", str(seed))
    out = tmp_path / "avg.pt"
    done = subprocess.run([sys.executable, str(script), *map(str, paths), "--data", str(tiny_data), "--out", str(out),
                           "--alpha", "0,0.5", "--val-variants", "1", "--bn-samples", "4"],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("alpha 0.") == 3 and "saved alpha" in done.stdout  # two tried, one saved
    m = CNNModel.from_file(out)
    alpha = m.meta["trained"]["alpha"]
    assert alpha in (0.0, 0.5) and m.meta["arch"] == "hfs" and m.version == "1"
    a, b = (CNNModel.from_file(p).net.state_dict() for p in paths)
    k = next(k for k, v in a.items() if v.is_floating_point() and v.dim() == 4)  # a convolution's weights
    assert torch.allclose(m.net.state_dict()[k], torch.lerp(a[k], b[k], alpha))
    torch.manual_seed(2)
    save_model(archs.build("seed"), "seed", {}, tmp_path / "other.pt", "iqa-seed", "1")
    done = subprocess.run([sys.executable, str(script), str(paths[0]), str(tmp_path / "other.pt"),
                           "--data", str(tiny_data), "--out", str(tmp_path / "x.pt")], capture_output=True, text=True)
    assert done.returncode != 0 and "architecture" in done.stderr and not (tmp_path / "x.pt").exists()


def test_edge_weighted_loss_stresses_errors_where_the_verdict_flips():
    y = torch.tensor([[0.5, 0.95, 0.05]])
    on_edge = torch.tensor([[0.4, 0.95, 0.05]])  # the same error of 0.1, on the edge or far from it
    far = torch.tensor([[0.5, 0.85, 0.05]])
    plain = torch.nn.functional.smooth_l1_loss
    for p in (on_edge, far):
        assert torch.isclose(train_iqa.edge_weighted_loss(p, y, 0.0), plain(p, y, beta=0.1))
    assert torch.isclose(plain(on_edge, y, beta=0.1), plain(far, y, beta=0.1))
    weighted = train_iqa.edge_weighted_loss(on_edge, y, 2.0), train_iqa.edge_weighted_loss(far, y, 2.0)
    assert weighted[0] > 2.5 * weighted[1]  # weights 3 against 1: the flipped verdict costs more
    assert torch.isclose(train_iqa.edge_weighted_loss(y, y, 2.0), torch.tensor(0.0))


def test_subnormal_weights_are_flushed_to_zero_when_saved_and_loaded(tmp_path):
    """A decayed dead channel's subnormal weights slow CPU scoring several-fold; they are zeros."""
    from clairvoyance.scoring.cnn import flush_subnormals

    torch.manual_seed(0)
    net = archs.build("hfs").eval()
    with torch.no_grad():
        net.hf[7][0].weight[:2] = 1e-40  # subnormal in float32, as weight decay leaves a dead channel
        net.hf[7][0].weight[2] = 1e-25  # normal, but its products with small activations are not
    x = torch.rand(2, 3, 256, 256)
    before = net(x)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    assert flush_subnormals(state) == 3 * 64 * 9 and float(state["hf.7.0.weight"][:3].abs().max()) == 0.0
    # a file written before flushing existed still loads flushed, with the same scores
    blob = {"arch": "hfs", "config": {}, "name": "old", "version": "1", "state_dict": net.state_dict()}
    torch.save(blob, tmp_path / "old.pt")
    m = CNNModel.from_file(tmp_path / "old.pt")
    assert m.net.hf[7][0].weight[:3].detach().abs().max().item() == 0.0
    assert torch.allclose(m.net(x), before)
    save_model(net, "hfs", {}, tmp_path / "new.pt", "new", "1")
    saved = torch.load(tmp_path / "new.pt", weights_only=True)["state_dict"]
    assert float(saved["hf.7.0.weight"][:3].abs().max()) == 0.0
    assert net.hf[7][0].weight[:3].detach().abs().min().item() > 0  # saving does not touch the live network


def _hfs_with_scores():
    """An hfs of width 8 whose BatchNorm statistics are not the defaults, a batch, and its scores."""
    torch.manual_seed(0)
    net = archs.build("hfs", width=8)
    x, native = torch.rand(3, 3, 256, 256), torch.tensor([256.0, 120.0, 64.0])
    with torch.no_grad():
        net.train()(x, native)
        return net, x, native, net.eval()(x, native)


def _grown_in_training(tiny_data, tmp_path, **grow):
    """One epoch of train-iqa from a saved hfs of width 8 grown by ``grow`` (width= or stem=): the
    exported model and the training log."""
    torch.manual_seed(0)
    save_model(archs.build("hfs", width=8), "hfs", {"width": 8}, tmp_path / "init.pt", "iqa-fast", "1")
    logs = []
    opt = TrainOptions(data=str(tiny_data), out=str(tmp_path / "run"), arch="hfs", epochs=1, samples_per_crop=1,
                       batch=2, workers=0, val_variants=1, bn_samples=2, init=str(tmp_path / "init.pt"), **grow)
    return CNNModel.from_file(train(opt, log=logs.append)), logs


def test_widening_a_trained_network_keeps_its_scores_and_adds_silent_channels():
    from clairvoyance.training.widen import widen

    net, x, native, before = _hfs_with_scores()
    wide, config = widen(net, "hfs", {}, 12)
    assert config == {"width": 12} and wide.width == 12
    assert sum(p.numel() for p in wide.parameters()) > 1.5 * sum(p.numel() for p in net.parameters())
    with torch.no_grad():
        assert torch.allclose(wide.eval()(x, native), before, atol=1e-6)
    # the new channels are live (random inputs) but silent (zero outputs) until training uses them
    last = wide.hf[8][0].weight.detach()  # 4w -> 4w: rows are outputs, columns inputs
    assert float(last[32:].abs().max()) > 0 and float(last[:32, 32:].abs().max()) == 0.0
    assert float(wide.attn.weight[:, 32:].abs().max()) == 0.0
    with pytest.raises(ValueError):
        widen(archs.build("seed"), "seed", {}, 12)


def test_training_can_widen_its_initial_model(tiny_data, tmp_path):
    m, logs = _grown_in_training(tiny_data, tmp_path, width=12)
    assert any("widened" in s for s in logs)
    assert m.meta["config"] == {"width": 12} and m.net.width == 12
    # the last epoch exports at its width too, also from a checkpoint that did not record it
    script = Path(__file__).resolve().parents[1] / "scripts" / "export_model.py"
    ck = tmp_path / "run" / "last.pt"
    state = torch.load(ck, weights_only=False)
    for key in ("arch", "config"):
        state.pop(key)
    torch.save(state, ck)
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "run"), "--epoch", "last", "--name", "iqa-fast",
                           "--version", "2", "--out", str(tmp_path / "last.pt")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert CNNModel.from_file(tmp_path / "last.pt").net.width == 12


def test_train_iqa_refuses_a_width_for_the_seed_network(tiny_data, tmp_path):
    from click.testing import CliRunner
    from clairvoyance.cli import main

    torch.manual_seed(0)
    save_model(archs.build("seed"), "seed", {}, tmp_path / "seed.pt", "iqa-seed", "1")
    for option in (["--width", "40"], ["--stem", "4"]):  # a stem, like a width, is hfs's alone
        for extra in (["--arch", "seed"], ["--init", str(tmp_path / "seed.pt")]):
            r = CliRunner().invoke(main, ["train-iqa", "--data", str(tiny_data), *option, "--epochs", "1",
                                          "--workers", "0", "--out", str(tmp_path / extra[0][2:]), *extra])
            assert r.exit_code == 2 and option[0][2:] in r.output and "Traceback" not in r.output, r.output


def test_a_stem_grown_onto_a_trained_network_keeps_its_scores_and_reads_full_resolution():
    from clairvoyance.training.widen import grow_stem

    net, x, native, before = _hfs_with_scores()
    grown, config = grow_stem(net, "hfs", {"width": 8}, 4)
    assert config == {"width": 8, "stem": 4} and grown.stem_channels == 4
    assert grown.hf_input(x).shape == (3, 6 + 4, 256, 256)  # the stem's channels at full resolution
    with torch.no_grad():
        assert torch.allclose(grown.eval()(x, native), before, atol=1e-6)
    unfold = grown.hf[1].weight.detach()  # the 1x1 convolution after the unfold: 16 inputs per channel
    assert unfold.shape[1] == 16 * 10 and float(unfold[:, 96:].abs().max()) == 0.0
    assert float(grown.stem[0].weight.abs().max()) > 0  # live, silent until training uses it
    with pytest.raises(ValueError):
        grow_stem(grown, "hfs", config, 4)
    with pytest.raises(ValueError):
        grow_stem(archs.build("seed"), "seed", {}, 4)


def test_training_can_grow_a_stem_onto_its_initial_model(tiny_data, tmp_path):
    m, logs = _grown_in_training(tiny_data, tmp_path, stem=4)
    assert any("grew a stem" in s for s in logs)
    assert m.meta["config"] == {"width": 8, "stem": 4} and m.net.stem_channels == 4


def test_a_model_averages_with_its_widened_fine_tune(tiny_data, tmp_path):
    script = Path(__file__).resolve().parents[1] / "scripts" / "average_models.py"
    torch.manual_seed(0)
    save_model(archs.build("hfs", width=8), "hfs", {"width": 8}, tmp_path / "a.pt", "iqa-fast", "1")
    save_model(archs.build("hfs", width=12), "hfs", {"width": 12}, tmp_path / "b.pt", "iqa-fast", "2")
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "a.pt"), str(tmp_path / "b.pt"), "--data",
                           str(tiny_data), "--out", str(tmp_path / "avg.pt"), "--alpha", "0.5", "--val-variants", "1",
                           "--bn-samples", "4"], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    m = CNNModel.from_file(tmp_path / "avg.pt")
    assert m.meta["config"] == {"width": 12} and m.net.width == 12 and m.meta["trained"]["alpha"] == 0.5


def test_evaluating_two_models_of_one_name_and_version_keeps_both(tiny_data):
    from clairvoyance.scoring import ClassicalModel

    res = train_iqa.evaluate([ClassicalModel(), ClassicalModel()], tiny_data, "train", variants=1)
    label = ClassicalModel().label
    assert list(res) == [label, f"{label}#2"] and res[label] == res[f"{label}#2"]


def test_probe_scripts_share_their_command_line_and_faces(tiny_data, monkeypatch):
    from clairvoyance.training.probe import probe_setup

    rows = dataset.read_manifest(tiny_data)
    dataset.write_manifest(tiny_data, [{**r, "split": "test"} for r in rows])
    monkeypatch.setattr("sys.argv", ["probe", str(tiny_data), "--model", "classical"])
    crops, models, mask = probe_setup("What a probe asks.\n\nMore.")
    assert len(crops.images) == len(rows) and crops.images[0].shape == (256, 256, 3)
    assert [m.label for m in models] == ["classical@1"] and mask.shape == (256, 256) and mask[128, 128]
    from clairvoyance.training.probe import pass_rates

    two_mild_defects, one_at_the_edge = [0.7, 0.7, 1.0], [0.5, 1.0, 1.0]
    assert pass_rates(np.array([two_mild_defects, one_at_the_edge, [0.4, 1, 1], [1, 1, 1]])) == "50% (75%)"


def test_probe_jpeg_grid_prints_each_quality_with_scores_at_every_grid_phase(tiny_data):
    rows = dataset.read_manifest(tiny_data)
    dataset.write_manifest(tiny_data, [{**r, "split": "test"} for r in rows])
    script = Path(__file__).resolve().parents[1] / "scripts" / "probe_jpeg_grid.py"
    done = subprocess.run([sys.executable, str(script), str(tiny_data), "--model", "classical"],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout.splitlines()
    assert len(out) == 4 and out[0].startswith(f"{len(rows)} clean test-split faces")
    for line, q in zip(out[1:], (15, 30, 60)):
        assert re.fullmatch(rf"JPEG q {q}: label [01]\.\d\d \| classical@1( \d,\d: [01]\.\d\d \d+%){{5}}", line), line


def test_check_scale_blurs_at_the_anchor_sigmas_and_reports_every_anchor(tiny_data):
    lines = [line for line in _script_on_test_split(tiny_data, "check_scale.py", "classical") if "classical@1" in line]
    assert len(lines) == 9 + 3 + 6  # three blurs, grain and two exposures at three anchors each
    bad_blur = next(line for line in lines if line.startswith("focus    bad  defocus disk sigma 2.0"))
    assert " 2.00 px " in bad_blur and "label 0.15" in bad_blur
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    try:
        import check_scale
    finally:
        sys.path.pop(0)
    for sigma in (0.5, 1.0, 2.0):  # a drawn disk or streak is wider than its nominal size: sized by its moment
        disk = check_scale.kernel_of_sigma(degrade.disk_kernel, sigma, 2 * sigma)
        streak = check_scale.kernel_of_sigma(lambda n: degrade.motion_kernel(n, 30.0), sigma, sigma * 24**0.5)
        assert degrade.kernel_sigma(disk) == pytest.approx(sigma, rel=0.01)
        assert degrade.kernel_sigma(streak) == pytest.approx(sigma, rel=0.01)


def test_false_rejects_breaks_errors_down_by_step_edge_and_face(tiny_data):
    script = Path(__file__).resolve().parents[1] / "scripts" / "false_rejects.py"
    done = subprocess.run([sys.executable, str(script), str(tiny_data), "--model", "classical", "--split", "train",
                           "--variants", "4", "--by-step", "--near-edge", "--by-face", "--without", "soft_source",
                           "--precision"],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "train split: 8 samples" in out and "## classical@1" in out
    for axis in ("focus", "noise", "lighting"):
        assert f"  {axis}: errors, median bias on labels 0.3-0.8" in out
    assert out.count("bias vs score undegraded: Spearman") == 3
    assert out.count("with each face's bias taken away") == 3
    assert sum("crops/" in line for line in out.splitlines()) == 3 * 2  # both faces, on every axis
    assert re.search(r"without soft_source: \d samples, accuracy focus [01]\.\d{3} / noise", out)
    assert "strength spread near the edge" in out
    assert "bias-free models under `budget`" in out or "no samples labelled near the edge" in out
    assert sum(bool(re.match(rf"    {axis} +[01]\.\d{{3}}; ", line)) for axis in ("focus", "noise", "lighting")
               for line in out.splitlines()) == 3
    face = _face()  # a blur leaves less of a soft face's gradient energy to lose
    assert degrade.reblur_ratio(degrade.gaussian_blur(face, 1.5)) > degrade.reblur_ratio(face)


def test_simulated_accuracy_falls_as_the_strength_spread_grows():
    """``false_rejects.py --precision``: an exact measurement gets every verdict right, a coarser
    one fewer, and labels far from the edge survive a spread that near-edge labels do not."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    try:
        import false_rejects
    finally:
        sys.path.pop(0)
    near = np.array([scale.score_from_strength("focus", s) for s in np.linspace(0.8, 1.25, 40)])
    far = np.array([scale.score_from_strength("focus", s) for s in (0.3, 0.35, 3.0, 4.0)])
    acc = [false_rejects.simulated_accuracy("focus", near, s, 0.5) for s in (0.0, 0.1, 0.3)]
    assert acc[0] == 1.0 and acc[0] > acc[1] > acc[2] > 0.4
    assert false_rejects.simulated_accuracy("focus", far, 0.2, 0.5) == 1.0


def test_simulated_false_rejects_grow_with_the_spread_and_count_good_faces_only():
    """``false_rejects.py --precision``: bias-free models judged as photos under the default rule.
    An exact one rejects no good face; a coarser one rejects more, reported both as a share of the
    good faces and of all faces; a face bad on an axis is never counted as a false reject."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    try:
        import false_rejects
    finally:
        sys.path.pop(0)
    near = [scale.score_from_strength(a, 0.85 * scale.CURVES[a][0]) for a in AXES]  # just good
    good = np.array([[near[j] if j == k else 0.97 for j in range(3)] for k in range(3)] * 10)
    assert verdict.passes(good, (0.5, 0.5, 0.5)).all()
    bad = np.array([[0.2, 0.95, 0.95]] * 30)
    labels = np.concatenate([good, bad])
    assert false_rejects.simulated_false_rejects(labels, (0.0, 0.0, 0.0), 0.5) == (0.0, 0.0)
    fine, coarse = (false_rejects.simulated_false_rejects(labels, (s, s, s), 0.5) for s in (0.1, 0.4))
    assert 0.0 < fine[0] < coarse[0] < 1.0
    assert coarse[1] == pytest.approx(coarse[0] * len(good) / len(labels))
    assert false_rejects.simulated_false_rejects(bad, (0.4, 0.4, 0.4), 0.5) == (0.0, 0.0)


def test_lighting_records_its_direction_and_kind_without_drawing_anything_more():
    """``false_rejects.py --by-step`` splits lighting errors by under- and over-exposure and kind."""
    face = _face()
    seen = set()
    for i in range(40):
        done: list[str] = []
        out = synth.light(face, np.random.default_rng(i), done)
        assert np.array_equal(out, synth.light(face, np.random.default_rng(i)))
        direction = [d for d in done if d in ("light_under", "light_over")]
        kind = [d for d in done if d in ("light_plain", "light_gamma", "light_contrast")]
        assert len(direction) == 1 and len(kind) == 1 and len(done) == 2
        if kind == ["light_plain"]:
            lum = lambda a: degrade.srgb_to_linear(a).mean()
            assert (lum(out) < lum(face)) == (direction == ["light_under"])
        seen.update(done)
    assert seen == {"light_under", "light_over", "light_plain", "light_gamma", "light_contrast"}


def test_person_mask_finds_a_portrait_on_a_plain_backdrop_and_relighting_it_keeps_the_face_label():
    """Low-key and high-key portraits (a dark room, a window behind) are well lit where it counts:
    training relights the background alone, so the face's exposure and label must stay."""
    face = _face()
    person = degrade.face_mask(256, 0.2, 0.02)  # the face and some hair, on a plain grey backdrop
    portrait = degrade.blend(face, np.full_like(face, 110), person)
    found = synth.person_mask(portrait)
    assert found[person > 0.99].mean() > 0.95 and found[person < 0.01].mean() < 0.05
    measured_on = degrade.face_mask(256) > 0.5
    for ev in (-3.0, 2.0):
        relit = synth.relit_background(portrait, ev, found)
        assert abs(degrade.exposure_error(portrait, relit, measured_on)) < 0.3
        corner = lambda a: degrade.srgb_to_linear(a[:20, :20]).mean()
        assert np.log2(corner(relit) / corner(portrait)) == pytest.approx(ev, abs=0.35)


def test_training_can_relight_backgrounds_without_changing_the_ladder():
    from clairvoyance.training.train_iqa import SynthSet

    crop = _face()
    person = synth.person_mask(crop)
    rng = lambda i: np.random.default_rng([9, i])
    for i in range(6):  # no share, or no mask: the ladder's sample, draw for draw
        plain = synth.sample(crop, rng(i))
        assert np.array_equal(plain[0], synth.sample(crop, rng(i), person=person)[0])
        assert np.array_equal(plain[0], synth.sample(crop, rng(i), background_share=1.0)[0])
    relit = [synth.augment(crop, rng(i), background_share=1.0, person=person) for i in range(6)]
    assert all(not np.array_equal(a, synth.augment(crop, rng(i))) for i, a in enumerate(relit))
    img, *_ = SynthSet(crop[None], 2, 9, background_share=1.0, persons=[person])[1]
    ref, _, _ = synth.sample(crop, np.random.default_rng([9, 0, 1]), 256, background_share=1.0, person=person)
    assert np.array_equal(img.permute(1, 2, 0).numpy(), ref)


def test_texture_crops_are_sharp_and_detailed_and_soft_or_plain_photos_give_none(coffee):
    from skimage import data

    rng = np.random.default_rng(0)
    for photo in (data.brick(), coffee):
        photo = photo if photo.ndim == 3 else np.repeat(photo[..., None], 3, 2)
        crop = synth.texture_crop(photo, rng)
        assert crop.shape == (256, 256, 3)
        assert degrade.reblur_ratio(crop) <= synth.TEXTURE_MAX_REBLUR
        assert degrade.gradient_energy(crop) >= synth.TEXTURE_MIN_ENERGY
    assert synth.texture_crop(degrade.gaussian_blur(coffee, 2.0), rng) is None  # all of it soft
    assert synth.texture_crop(np.full((400, 400, 3), 128, np.uint8), rng) is None  # nothing to judge
    assert synth.texture_crop(coffee[:200, :200], rng) is None  # smaller than a crop


def test_texture_photos_leave_out_faces_small_photos_and_broken_files(tmp_path, astronaut, coffee):
    from PIL import Image

    Image.fromarray(astronaut).save(tmp_path / "astronaut.png")  # a face: a real-face check, never a texture
    Image.fromarray(coffee).save(tmp_path / "coffee.png")
    Image.fromarray(coffee[:100, :100]).save(tmp_path / "small.png")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    (tmp_path / "notes.txt").write_text("not a photo")
    said = []
    photos, names = dataset.load_textures([tmp_path], log=said.append)
    assert names == ["coffee.png"] and photos[0].shape == coffee.shape
    assert any("astronaut.png" in m and "face" in m for m in said) and any("broken.jpg" in m for m in said)


def test_texture_samples_count_on_focus_only_and_leave_face_samples_as_they_were(coffee):
    from clairvoyance.training.train_iqa import SynthSet

    crop = _face()
    with_textures = SynthSet(crop[None], 8, 4, textures=[coffee], texture_share=1.0)
    counts = [with_textures[i][3].numpy() for i in range(8)]
    assert all(np.array_equal(c, synth.TEXTURE_AXES) for c in counts)
    for i in range(4):  # no share, or no photos: the face samples of before, draw for draw
        plain = SynthSet(crop[None], 4, 4)[i]
        for other in (SynthSet(crop[None], 4, 4, textures=[coffee]), SynthSet(crop[None], 4, 4, texture_share=1.0)):
            assert torch.equal(plain[0], other[i][0]) and torch.equal(plain[3], torch.ones(3))
    y = torch.tensor([[0.5, 0.9, 0.9]])
    wrong_light = torch.tensor([[0.5, 0.9, 0.1]])
    focus_only = torch.tensor([[1.0, 0.0, 0.0]])
    assert train_iqa.edge_weighted_loss(wrong_light, y, 2.0, focus_only) == 0  # a texture's lighting is unknown
    assert train_iqa.edge_weighted_loss(wrong_light, y, 2.0, torch.ones(1, 3)) > 0


def test_train_iqa_trains_focus_on_texture_photos_and_needs_them_for_a_share(tiny_data, tmp_path, coffee):
    from click.testing import CliRunner
    from PIL import Image

    from clairvoyance.cli import main

    textures = tmp_path / "textures"
    textures.mkdir()
    Image.fromarray(coffee).save(textures / "coffee.png")
    args = ["train-iqa", "--data", str(tiny_data), "--arch", "hfs", "--epochs", "1", "--samples-per-crop", "4",
            "--batch", "4", "--workers", "0", "--texture-share", "0.5"]
    r = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "none")])
    assert r.exit_code == 2 and "--textures" in r.output and "Traceback" not in r.output, r.output
    r = CliRunner().invoke(main, [*args, "--textures", str(textures), "--out", str(tmp_path / "run")],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "1 texture photos teach focus to 50% of samples: coffee.png" in r.output
    opts = __import__("json").loads((tmp_path / "run" / "options.json").read_text())
    assert opts["textures"] == [str(textures)] and opts["texture_share"] == 0.5


def test_check_small_faces_shrinks_faces_to_each_side_and_blurs_them_there(tiny_data):
    script = Path(__file__).resolve().parents[1] / "scripts" / "check_small_faces.py"
    sys.path.insert(0, str(script.parent))
    try:
        import check_small_faces
    finally:
        sys.path.pop(0)
    face = _face()
    sharp, soft = check_small_faces.at_side(face, 64), check_small_faces.at_side(face, 64, 0.7)
    assert sharp.shape == soft.shape == (256, 256, 3)
    assert degrade.reblur_ratio(soft) > degrade.reblur_ratio(sharp) > degrade.reblur_ratio(face)
    table = [line.split() for line in _script_on_test_split(tiny_data, "check_small_faces.py", "iqa-fast")[2:]]
    assert [int(row[0]) for row in table] == list(check_small_faces.SIDES)
    median_sharp = [float(row[1].rstrip(",")) for row in table]
    assert median_sharp[0] < 0.5 < median_sharp[-1]  # a 48 px face reads as blurred, a 160 px one does not


def test_training_can_show_tiny_faces_whose_blur_counts_in_their_own_pixels_without_changing_the_ladder():
    from clairvoyance.training.train_iqa import SynthSet

    crop = _face()
    rng = lambda i: np.random.default_rng([5, i])
    for i in range(8):  # no share: the ladder's sample, draw for draw
        assert np.array_equal(synth.sample(crop, rng(i))[0], synth.sample(crop, rng(i), p_tiny=0.0)[0])
    assert all(synth.small_face(crop, rng(i))[1] >= synth.SMALL_FACE_MIN for i in range(8))

    def blurred_small(p_tiny: float) -> tuple[list[int], list[float]]:
        natives, labels = [], []
        for i in range(240):
            steps: list[str] = []
            _, lab, native = synth.sample(crop, rng(i), 256, steps, p_soft_source=0.0, p_tiny=p_tiny)
            if native < 256 and "blur" in steps:
                natives.append(native)
                labels.append(float(lab[0]))
        return natives, labels

    tiny, ladder = blurred_small(1.0), blurred_small(0.0)
    assert tiny[0] and all(synth.TINY_FACE_MIN <= n < synth.SMALL_FACE_MIN for n in tiny[0])
    assert all(n >= synth.SMALL_FACE_MIN for n in ladder[0])
    # the same blurs of the upscaled crop are a smaller part of a tiny face's own pixels: higher labels
    assert np.median(tiny[1]) > np.median(ladder[1]) + 0.1
    assert SynthSet(crop[None], 4, 5, tiny_face_share=0.5).tiny_face_share == 0.5


def test_samples_record_only_the_step_names_synth_lists_and_training_flags_the_asked_ones():
    from clairvoyance.training.train_iqa import SynthSet

    crop = _face()
    seen: set[str] = set()
    for i in range(60):
        steps: list[str] = []
        synth.sample(crop, np.random.default_rng([3, i]), 200, steps, p_look=0.2)
        seen.update(steps)
    assert seen <= set(synth.STEPS) and {"sharpen", "soft_source", "blur", "noise"} <= seen
    plain, flagged = SynthSet(crop[None], 16, 2), SynthSet(crop[None], 16, 2, aux_steps=["sharpen", "soft_source"])
    for i in range(16):  # the same samples, draw for draw, with what they went through
        a, b = plain[i], flagged[i]
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and a[4].numel() == 0
        steps: list[str] = []
        synth.sample(crop, np.random.default_rng([2, 0, i]), 256, steps)
        assert b[4].tolist() == [float("sharpen" in steps), float("soft_source" in steps)]
    human = SynthSet(crop[None], 1, 2, human=[(crop, np.ones(3, np.float32))], aux_steps=["sharpen"])[1]
    assert torch.isnan(human[4]).all()  # a human-labelled crop's history is unknown


def test_the_auxiliary_head_counts_known_steps_only():
    torch.manual_seed(0)
    aux = train_iqa.AuxHead(5, ["sharpen", "soft_source"])
    z = torch.randn(4, 5)
    flags = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [math.nan, math.nan]])
    loss, right = aux.loss(z, flags)
    assert loss > 0 and right[1].tolist() == [3, 3]  # the unknown row counts nowhere
    unknown_only, right = aux.loss(z[3:], flags[3:])
    assert unknown_only == 0 and right.sum() == 0


def test_training_with_an_auxiliary_head_keeps_it_out_of_the_model_file(tiny_data, tmp_path):
    from click.testing import CliRunner
    from clairvoyance.cli import main

    torch.manual_seed(0)
    init = tmp_path / "init.pt"
    save_model(archs.build("hfs", width=8), "hfs", {"width": 8}, init, "iqa-fast", "1")
    out = tmp_path / "run"
    r = CliRunner().invoke(main, ["train-iqa", "--data", str(tiny_data), "--init", str(init), "--epochs", "1",
                                  "--samples-per-crop", "4", "--batch", "2", "--workers", "0",
                                  "--aux-step", "sharpen", "--aux-step", "noise", "--out", str(out)])
    assert r.exit_code == 0, r.output
    history = __import__("json").loads((out / "history.json").read_text())
    assert set(history[0]["aux_accuracy"]) == {"sharpen", "noise"}
    assert all(0 <= v <= 1 for v in history[0]["aux_accuracy"].values())
    model = CNNModel.from_file(out / "best.pt")  # a plain hfs file: the head's read-out is not in it
    assert set(model.net.state_dict()) == set(archs.build("hfs", width=8).state_dict())
    assert torch.load(out / "last.pt", weights_only=False)["aux"]["read.weight"].shape == (2, 8 * 8 + 16 + 6 + 1)
    resume = ["train-iqa", "--data", str(tiny_data), "--epochs", "2", "--samples-per-crop", "4", "--batch", "2",
              "--workers", "0", "--aux-step", "sharpen", "--out", str(out), "--init", str(init), "--resume"]
    r = CliRunner().invoke(main, resume)
    assert r.exit_code == 2 and "resume with the same" in r.output  # not with other steps
    r = CliRunner().invoke(main, [*resume, "--aux-step", "noise"])
    assert r.exit_code == 0, r.output  # resumes with its read-out
    assert len(__import__("json").loads((out / "history.json").read_text())) == 2
    r = CliRunner().invoke(main, ["train-iqa", "--data", str(tiny_data), "--arch", "seed", "--epochs", "1",
                                  "--workers", "0", "--aux-step", "sharpen", "--out", str(tmp_path / "seed")])
    assert r.exit_code == 2 and "hf, hfs" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["train-iqa", "--data", str(tiny_data), "--aux-step", "focus", "--out",
                                  str(tmp_path / "bad")])
    assert r.exit_code == 2 and "sharpen" in r.output  # the step names synth records are listed


def test_probe_head_refits_the_head_with_and_without_a_sample_history(tiny_data, tmp_path):
    rows = dataset.read_manifest(tiny_data)
    dataset.write_manifest(tiny_data, [*rows, {**rows[1], "split": "test"}])
    init = tmp_path / "m.pt"
    torch.manual_seed(0)
    save_model(archs.build("hfs", width=8), "hfs", {"width": 8}, init, "iqa-fast", "3")
    script = Path(__file__).resolve().parents[1] / "scripts" / "probe_head.py"
    done = subprocess.run([sys.executable, str(script), str(tiny_data), "--model", str(init), "--train-variants", "3",
                           "--variants", "2", "--give", "sharpen", "--give", "source", "--give", "labels",
                           "--give", "sharpness", "--epochs", "2"], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout.splitlines()
    assert out[0] == "iqa-fast@3: 6 training samples, 2 test samples"
    assert [line.split()[0] for line in out[2:8]] == ["model", "refit", "+", "+", "+", "+"]
    assert [line.split()[1] for line in out[4:8]] == ["sharpen", "source", "labels", "sharpness"]
    assert all(re.fullmatch(r"[01]\.\d{3}", v) for line in out[2:8] for v in line.split()[-3:])
    assert re.fullmatch(r"a linear read-out of the features tells sharpen [01]\.\d{3} of the time "
                        r"\(the commoner answer: [01]\.\d{3}\)", out[8]) and len(out) == 9


def test_sharpness_statistics_say_a_blurred_face_keeps_more_of_its_gradient_energy_under_a_blur():
    """``probe_head.py --give sharpness``: the classic re-blur ratios rise (towards 1) as the face
    is blurred, on the whole face and on its edges alike."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    try:
        import probe_head
    finally:
        sys.path.pop(0)
    face, weight = _face(), degrade.face_mask(256)
    stats = [probe_head.sharpness_statistics(degrade.gaussian_blur(face, s) if s else face, weight) for s in (0, 1, 2)]
    assert all(len(v) == 1 + 3 * len(probe_head.REBLUR_SIGMAS) and np.isfinite(v).all() for v in stats)
    assert stats[0][0] > stats[1][0] > stats[2][0]  # less gradient energy
    assert (stats[0][1:] < stats[1][1:]).all() and (stats[1][1:] < stats[2][1:]).all()  # ratios nearer 1 (log 0)


def test_a_fixed_set_drawn_a_slice_at_a_time_is_the_same_set():
    crops = np.stack([_face(), _face()[:, ::-1].copy()])
    whole_steps: list[list[str]] = []
    x, y, n = train_iqa.fixed_set(crops, 3, 4, np.array([256, 180]), whole_steps)
    sliced_steps: list[list[str]] = []
    parts = [train_iqa.fixed_set(crops, k, 4, np.array([256, 180]), sliced_steps, first=v) for v, k in ((0, 1), (1, 2))]
    assert np.array_equal(x, np.concatenate([p[0] for p in parts]))
    assert np.array_equal(y, np.concatenate([p[1] for p in parts])) and np.array_equal(n, np.concatenate([p[2] for p in parts]))
    assert sliced_steps == whole_steps
