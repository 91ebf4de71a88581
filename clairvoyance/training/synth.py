"""Synthetic labels: degrade a clean face crop with known strengths and map them to scores.

Each axis is sampled independently (a third of samples leave it untouched), so the network
learns every axis apart from the others. Order is physical: optics (blur), then exposure, then
sensor noise, then JPEG compression. Strengths become labels through ``clairvoyance.scale``:

* focus: the Gaussian-equivalent sigma of the blur, the isotropic Gaussian with the kernel's second
  moment (defocus disk r -> r/2, motion length L -> L/sqrt(24));
  background-only blur (bokeh) and the upscaling of a face of 128-256 native pixels leave it at 1;
  a face from a low-resolution source (below) gets the sigma of the Gaussian blur closest to its softness;
  sharpening (an unsharp mask, as cameras, TV and web resizers apply; a soft source's at its low
  resolution or, half the time, after its upscale) leaves it as it was: it adds edge contrast and
  halos, and the finest detail a blur took stays lost;
* noise: the measured RMS of what grain added (after sharpening, which amplifies it), in 8-bit
  levels, with what JPEG added on top weighted by ``scale.COMPRESSION_WEIGHT``
  (``scale.noise_strength``); on a small face, half the time added at its native size before the
  upscale, as its camera did; the JPEG's 8x8 grid falls anywhere on the crop (``grid_phase``);
* lighting: the measured exposure error of the face in stops (``degrade.exposure_error``).
"""
from __future__ import annotations

import math
from typing import Callable

import cv2
import numpy as np

from .. import degrade, scale

P_CLEAN = 0.3
#: Share of samples that come from a low-resolution source (second-order degradation).
P_SOFT_SOURCE = 0.15
#: Share of samples sharpened after capture (camera JPEG engine, TV edge enhancement, web resizer).
P_SHARPEN = 0.3
#: Share of low-resolution sources sharpened: video stills and web copies nearly always are.
P_SHARPEN_SOFT_SOURCE = 0.6
#: Share of samples turned black and white (some of them toned, as sepia or selenium prints).
P_MONOCHROME = 0.1
#: Spread (log gain) of the colour cast each sample gets: white balance, tungsten, shade, a red hat.
CAST_SD = 0.08
#: Exposure range (stops) of a relit background: a low-key portrait, a window or the sky behind.
BACKGROUND_EV = (-3.0, 2.0)

#: A texture crop (``texture_crop``) must be at least as sharp as this ``degrade.reblur_ratio`` (the
#: clean training faces' median is 0.58; blurring them by sigma 1 px gives 0.76) ...
TEXTURE_MAX_REBLUR = 0.55
#: ... and hold this much detail (``degrade.gradient_energy``; the clean training faces': 2 400-10 800): a
#: blurred sky looks like a sharp one, so a plain crop's focus label could not be learnt.
TEXTURE_MIN_ENERGY = 2000.0
#: What a texture sample teaches: focus only. Film grain and an arbitrary crop's exposure leave its
#: noise and lighting references unknown; its blur, like a face's, is exactly what was applied.
TEXTURE_AXES = np.array([1.0, 0.0, 0.0], np.float32)

#: The names ``sample`` records of the steps a sample went through (its ``steps``).
STEPS = ("small_face", "blur", "blur_gaussian", "blur_defocus", "blur_motion", "bokeh", "light", "light_under",
         "light_over", "light_plain", "light_gamma", "light_contrast", "soft_source", "local_contrast", "noise",
         "noise_at_native", "sharpen")

Filter = Callable[[np.ndarray], np.ndarray]


def _same(a: np.ndarray) -> np.ndarray:
    return a


def _then(first: Filter, second: Filter) -> Filter:
    """``second`` applied after ``first``."""
    return lambda a: second(first(a))


def _loguniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def grid_phase(rng: np.random.Generator) -> tuple[int, int]:
    """Where a face's crop starts on its photo's 8x8 JPEG grid (rows, columns): anywhere. Drawn from
    a child of ``rng``, so the sample's other draws (and every sample without JPEG) stay as they were."""
    dy, dx = rng.spawn(1)[0].integers(0, 8, 2)
    return int(dy), int(dx)


def person_mask(img: np.ndarray) -> np.ndarray:
    """Where the person is (1) and the background (0) in a face crop, by GrabCut (OpenCV) seeded
    with the face's middle and the neck as the person and the crop's top and upper sides as
    background; softened a pixel or so. About 0.2 s a crop: compute it once per crop."""
    h, w = img.shape[:2]
    seeds = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    seeds[degrade.face_mask(h, 0.25, 0.02) > 0.5] = cv2.GC_PR_FGD
    seeds[int(h * 0.85):, int(w * 0.3):int(w * 0.7)] = cv2.GC_PR_FGD
    seeds[degrade.face_mask(h, 0.45, 0.02) > 0.5] = cv2.GC_FGD
    seeds[:6] = cv2.GC_BGD
    seeds[:int(h * 0.6), :6] = seeds[:int(h * 0.6), -6:] = cv2.GC_BGD
    models = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.grabCut(np.ascontiguousarray(img[:, :, ::-1]), seeds, None, *models, 4, cv2.GC_INIT_WITH_MASK)
    person = ((seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD)).astype(np.float32)
    return cv2.GaussianBlur(person, (0, 0), 1.5)


def relit_background(img: np.ndarray, ev: float, person: np.ndarray) -> np.ndarray:
    """``img`` with its background exposed ``ev`` stops brighter or darker (a low-key, high-key or
    backlit portrait), the person (``person_mask``) as they were, so the face's lighting label
    stays."""
    return degrade.blend(img, degrade.exposure(img, ev), person)


def augment(crop: np.ndarray, rng: np.random.Generator, cast_sd: float = CAST_SD,
            background_share: float = 0.0, person: np.ndarray | None = None) -> np.ndarray:
    """Label-preserving variety: flips, small zoom/shift, colour cast (per-channel gains of log spread
    ``cast_sd``) and saturation, and black and white (``P_MONOCHROME`` of samples; a monochrome
    print is a style, not a defect). Given the crop's ``person_mask``, ``background_share`` of
    samples get a relit background (``relit_background``; training's option: the ladder has none,
    and draws nothing without it)."""
    if person is not None and background_share > 0 and rng.random() < background_share:
        crop = relit_background(crop, rng.uniform(*BACKGROUND_EV), person)
    img = crop[:, ::-1] if rng.random() < 0.5 else crop
    s = rng.uniform(0.92, 1.1)
    tx, ty = rng.uniform(-8, 8, 2)
    M = np.array([[s, 0, (1 - s) * 128 + tx], [0, s, (1 - s) * 128 + ty]], np.float32)
    img = cv2.warpAffine(np.ascontiguousarray(img), M, (256, 256), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    gains = np.exp(rng.normal(0, cast_sd, 3)).astype(np.float32)
    if rng.random() < P_MONOCHROME:  # black and white, through a random colour filter, maybe toned
        weights = rng.dirichlet(degrade.LUMA * 20)
        tone = np.exp(rng.normal(0, 0.12, 3)) if rng.random() < 0.5 else None
        return degrade.monochrome(img, weights, tone)
    lin = degrade.srgb_to_linear(img) * gains / gains.mean()
    g = lin.mean(axis=2, keepdims=True)
    lin = g + (lin - g) * rng.uniform(0.7, 1.25)
    return degrade.linear_to_srgb(lin)


def texture_crop(photo: np.ndarray, rng: np.random.Generator, tries: int = 8) -> np.ndarray | None:
    """A sharp, detailed 256x256 crop of a clean photo without a face, reduced 1-1.9x (within the
    photo's size): of ``tries`` random crops, the sharpest (``degrade.reblur_ratio``) of those with
    detail (``TEXTURE_MIN_ENERGY``), or None when none is sharp enough (a shallow depth of field's
    background is soft, and a soft crop labelled sharp would teach the opposite of focus).

    Why textures: with a couple of hundred training faces, the network partly judges focus by each
    face's look (skin, make-up) instead of by its blur; the same blur on buildings, leaves and
    fabric might teach what blur itself looks like. (Tried as version 16: a tie on held-out faces,
    not shipped; the README's model card has the figures.)"""
    h, w = photo.shape[:2]
    top = min(h, w) / 256
    if top < 1:
        return None
    best, best_ratio = None, TEXTURE_MAX_REBLUR
    for _ in range(tries):
        s = rng.uniform(1.0, min(1.9, top))
        small = cv2.resize(photo, (max(256, int(w / s)), max(256, int(h / s))), interpolation=cv2.INTER_AREA)
        y, x = rng.integers(0, small.shape[0] - 255), rng.integers(0, small.shape[1] - 255)
        crop = np.ascontiguousarray(small[y:y + 256, x:x + 256])
        if degrade.gradient_energy(crop) < TEXTURE_MIN_ENERGY:
            continue
        ratio = degrade.reblur_ratio(crop)
        if ratio < best_ratio:
            best, best_ratio = crop, ratio
    return best


#: Smallest native side of the ladder's small faces; training can show smaller ones (``p_tiny``).
SMALL_FACE_MIN = 128
#: Smallest native side of a tiny face (``p_tiny``): the pipeline's ``detection.MIN_FACE_SIDE`` and below.
TINY_FACE_MIN = 64


def small_face(img: np.ndarray, rng: np.random.Generator, tiny: bool = False) -> tuple[np.ndarray, int]:
    """As if the face had ``n`` < 256 native pixels and was upscaled by the pipeline; returns ``n`` too.
    ``tiny``: ``n`` below ``SMALL_FACE_MIN``, from ``TINY_FACE_MIN``."""
    n = int(rng.uniform(TINY_FACE_MIN, SMALL_FACE_MIN)) if tiny else int(rng.uniform(SMALL_FACE_MIN, 240))
    small = cv2.resize(img, (n, n), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (256, 256), interpolation=cv2.INTER_CUBIC), n


def blur(img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    """Random defocus, Gaussian or motion blur; returns the image, its equivalent sigma and the kind."""
    sigma = _loguniform(rng, 0.25, 5.0)
    kind = rng.choice(["gaussian", "defocus", "motion"], p=[0.35, 0.4, 0.25])
    if kind == "gaussian":
        return degrade.gaussian_blur(img, sigma), sigma, "gaussian"
    if kind == "defocus":
        k = degrade.disk_kernel(2.0 * sigma)
    else:
        k = degrade.motion_kernel(max(1.5, sigma * math.sqrt(24.0)), rng.uniform(0, 180))
    return degrade.convolve(img, k), degrade.kernel_sigma(k), str(kind)


def sharpener(rng: np.random.Generator, p: float = P_SHARPEN) -> Filter | None:
    """A random unsharp mask (radius 0.6-2.5 px, amount 0.4-2.5) for a share ``p`` of samples, else
    None. Sharpened soft faces are what real camera rolls and video stills hold: without them a
    model learns that crisp edges mean focus, and passes a soft, sharpened face."""
    if rng.random() >= p:
        return None
    radius, amount = _loguniform(rng, 0.6, 2.5), rng.uniform(0.4, 2.5)
    return lambda a: degrade.unsharp_mask(a, radius, amount)


def soft_source(img: np.ndarray, rng: np.random.Generator, sharpen: Filter = _same,
                after_upscale: bool = False) -> tuple[np.ndarray, float, float]:
    """A face that reached the camera roll already degraded: an old print scan, a video still, a web
    copy. As in the second-order models of real-world degradation (BSRGAN, Real-ESRGAN), it was
    downscaled to 32-180 px, got grain there, often the texture-flattening of a denoiser or a video
    codec, ``sharpen`` when given (edge enhancement at the low resolution, or, ``after_upscale``,
    on the enlarged copy, as a TV's scaler, a viewer or an editor does), and JPEG blocking, and
    was upscaled back to 256 px. Synthetic blur and noise alone never look like this, and the IQA
    must fail such faces.

    Returns the image, its focus strength (the Gaussian-equivalent sigma of the resampling and
    smoothing, measured on the noise-free, unsharpened source) and its noise strength (RMS of what
    grain and JPEG added, or left after smoothing and sharpening, measured after upscaling against
    the sharpened noise-free source).
    """
    side = int(round(_loguniform(rng, 32, 180)))
    down = int(rng.choice([cv2.INTER_AREA, cv2.INTER_LINEAR, cv2.INTER_CUBIC]))
    up = int(rng.choice([cv2.INTER_LINEAR, cv2.INTER_CUBIC]))
    small = cv2.resize(img, (side, side), interpolation=down)
    smoothing = None
    if rng.random() < 0.4:
        smoothing = (int(rng.choice([5, 7, 9])), rng.uniform(15, 90))
    flatten = (lambda a: degrade.smooth_texture(a, *smoothing)) if smoothing else (lambda a: a)
    clean = flatten(small)
    soft = cv2.resize(clean, (256, 256), interpolation=up)
    if rng.random() < 0.5:  # grain comes before the flattening (a denoiser works on the grainy frame)
        small = flatten(degrade.sensor_noise(small, _loguniform(rng, 1.0, 12.0), rng, chroma=rng.uniform(0.0, 0.5),
                                             signal_dependence=rng.uniform(0.0, 0.9)))
    else:  # no grain: the flattened source is the one already made
        small = clean
    enlarge = lambda a: cv2.resize(a, (256, 256), interpolation=up)
    at_low, at_full = (_same, sharpen) if after_upscale else (sharpen, _same)
    small = at_low(small)
    reference = at_full(enlarge(at_low(clean)))
    grainy = out = at_full(enlarge(small))
    if rng.random() < 0.7:
        out = at_full(enlarge(degrade.jpeg(small, int(rng.uniform(30, 92)), grid_phase(rng))))
    sigma = degrade.equivalent_blur_sigma(img, soft, degrade.face_mask(256) > 0.5)
    return out, sigma, scale.noise_strength(degrade.noise_level(reference, grainy),
                                            degrade.noise_level(reference, out))


def at_native(img: np.ndarray, n: int, fn) -> tuple[list[np.ndarray], np.ndarray]:
    """Apply ``fn`` to an upscaled small face at its native ``n`` px, as a camera and its JPEG did
    before the pipeline upscaled it (grain and 8x8 blocks get stretched, not shrunk). ``fn``
    returns a tuple of images; returns them upscaled, and the upscaled untouched face to measure
    them against."""
    small = cv2.resize(img, (n, n), interpolation=cv2.INTER_AREA)
    up = lambda a: cv2.resize(a, (256, 256), interpolation=cv2.INTER_CUBIC)
    return [up(a) for a in fn(small)], up(small)


def bokeh(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Blur the background only (shallow depth of field); the face stays as sharp as it was."""
    back = degrade.defocus_blur(img, rng.uniform(3, 12))
    return degrade.blend(img, back, degrade.face_mask(256, feather=rng.uniform(0.05, 0.2)))


def light(img: np.ndarray, rng: np.random.Generator, done: list[str] | None = None) -> np.ndarray:
    """An exposure shift, sometimes with a gamma or contrast change; ``done`` receives its direction
    (``light_under`` / ``light_over``) and kind (``light_plain`` / ``_gamma`` / ``_contrast``), to see
    which of them a model gets wrong."""
    ev = rng.uniform(-3.5, 2.5)
    out = degrade.exposure(img, ev)
    r = rng.random()
    kind = "plain"
    if r < 0.25:
        out, kind = degrade.gamma(out, _loguniform(rng, 0.6, 1.7)), "gamma"
    elif r < 0.45:
        out, kind = degrade.contrast(out, rng.uniform(0.35, 0.9)), "contrast"
    if done is not None:
        done += ["light_under" if ev < 0 else "light_over", f"light_{kind}"]
    return out


def noise(img: np.ndarray, rng: np.random.Generator, sharpen: Filter = _same,
          p_raw: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Sensor grain, ``sharpen`` when given (the camera's, which amplifies the grain), then often
    JPEG. ``p_raw`` of the grain is drawn on the raw mosaic and demosaiced (``degrade.raw_noise``:
    clumped, blotchy grain, as a camera makes it; the ladder has none). Returns the result and the
    grainy image before JPEG (to weigh compression's share of the error apart,
    ``scale.noise_strength``). Measure both against ``sharpen(img)``."""
    grainy = img
    if rng.random() < 0.8:
        if p_raw and rng.random() < p_raw:  # else no draw: the ladder's samples stay as they were
            gain, read = _loguniform(rng, 4e-5, 0.15), _loguniform(rng, 0.005, 0.05)  # about 0.8-45 levels
            grainy = degrade.raw_noise(img, gain, rng, read)
        else:
            grainy = degrade.sensor_noise(img, _loguniform(rng, 0.8, 45.0), rng, chroma=rng.uniform(0.1, 0.8),
                                          signal_dependence=rng.uniform(0.0, 0.9))
    grainy = sharpen(grainy)
    out = degrade.jpeg(grainy, int(rng.uniform(8, 70)), grid_phase(rng)) if rng.random() < 0.35 else grainy
    return out, grainy


def sample(crop: np.ndarray, rng: np.random.Generator, native: int = 256,
           steps: list[str] | None = None, p_soft_source: float = P_SOFT_SOURCE,
           cast_sd: float = CAST_SD, background_share: float = 0.0,
           person: np.ndarray | None = None, p_tiny: float = 0.0,
           p_raw: float = 0.0, p_look: float = 0.0) -> tuple[np.ndarray, np.ndarray, int]:
    """One degraded version of a clean 256x256 crop of a face of ``native`` pixels, its labels
    (focus, noise, lighting) and the face's native size after the degradation (what the
    pipeline would pass to the model). A low-resolution source keeps its native size: the photo
    is large, its content soft, and that softness must be judged. ``steps``, when given, receives
    the names of the degradations applied (to see which ones a model gets wrong). ``p_soft_source``
    is the share of low-resolution sources, ``cast_sd`` the spread of colour casts and
    ``background_share`` the share of relit backgrounds, given the crop's ``person_mask``
    (training may show more of these than the evaluation ladder has). ``p_tiny`` is the share of
    small faces drawn below ``SMALL_FACE_MIN`` native pixels (training's option: the ladder has none,
    and draws nothing without it); a tiny face's blur counts in its own pixels, scaled to a face of
    ``SMALL_FACE_MIN``: a face of 64-128 px is at the edge when blurred by half a pixel of its own, as
    a 128 px face is. ``p_raw`` is the share of grain added on the raw mosaic (``noise``; training's
    option: the ladder has none). ``p_look`` is the share of samples (not from a low-resolution
    source) given an editor's local-contrast finish (``degrade.local_contrast``) after the camera's
    grain and sharpening, before JPEG: it raises the grain, and the noise label counts what it does
    to the grain alone, not the face's own texture; the lighting label is measured after it, as it
    lifts shadows (training's option: the ladder has none)."""
    done = steps if steps is not None else []
    img = augment(crop, rng, cast_sd, background_share, person)
    native = min(int(native), 256)
    small_side = 0
    if rng.random() < 0.25:
        img, small_side = small_face(img, rng, p_tiny > 0 and rng.random() < p_tiny)
        native = min(native, small_side)
        done.append("small_face")
    sigma = noise_sd = 0.0
    from_soft_source = rng.random() < p_soft_source
    sharpen = sharpener(rng, P_SHARPEN_SOFT_SOURCE if from_soft_source else P_SHARPEN)
    if not from_soft_source:  # its softness is its blur
        if rng.random() > P_CLEAN:
            img, sigma, kind = blur(img, rng)
            done += ["blur", f"blur_{kind}"]
        elif rng.random() < 0.3:
            img = bokeh(img, rng)
            done.append("bokeh")
    lighting_ev = 0.0
    unlit = img
    if rng.random() > P_CLEAN:
        done.append("light")
        img = light(img, rng, done)
        lighting_ev = degrade.exposure_error(unlit, img, degrade.face_mask(256) > 0.5)
    if from_soft_source:  # after exposure: the source was exposed, then copied at low resolution
        after_upscale = sharpen is not None and rng.random() < 0.5
        img, sigma, noise_sd = soft_source(img, rng, sharpen or _same, after_upscale)
        done.append("soft_source")
    # the camera's sharpening, after its grain (a soft source was sharpened in soft_source)
    camera_sharpen = sharpen if sharpen is not None and not from_soft_source else _same
    if p_look and not from_soft_source and rng.random() < p_look:  # else no draw: the ladder stays as it was
        clip = rng.uniform(1.5, 4.5)
        look = lambda a: degrade.local_contrast(a, clip)
        camera_sharpen = _then(camera_sharpen, look)
        # local contrast lifts a dark face's shadows and tames a bright one's: its exposure is measured after it
        lighting_ev = degrade.exposure_error(unlit, look(img), degrade.face_mask(256) > 0.5)
        done.append("local_contrast")
    if rng.random() > P_CLEAN:
        if small_side and rng.random() < 0.5:  # the small face's own grain and JPEG, upscaled with it
            (img, grainy, before), _ = at_native(img, small_side,
                                                 lambda a: (*noise(a, rng, camera_sharpen, p_raw), camera_sharpen(a)))
            done.append("noise_at_native")
        else:
            before = camera_sharpen(img)
            img, grainy = noise(img, rng, camera_sharpen, p_raw)
            done.append("noise")
        noise_sd = math.hypot(noise_sd, scale.noise_strength(degrade.noise_level(before, grainy),
                                                             degrade.noise_level(before, img)))
    else:
        img = camera_sharpen(img)
    if sharpen is not None:
        done.append("sharpen")
    if small_side and small_side < SMALL_FACE_MIN:  # blur in the tiny face's own pixels, as at 128 px
        sigma *= small_side / SMALL_FACE_MIN
    labels = np.array([scale.score_from_strength("focus", sigma), scale.score_from_strength("noise", noise_sd),
                       scale.score_from_strength("lighting", lighting_ev)], np.float32)
    return img, labels, native
