"""Synthetic degradations with known strength, applied in linear light.

Used to make training labels (each strength maps to a score through ``scale``), the calibration
chart, the demo photos and the classical back-end's calibration. All functions take and return
HxWx3 uint8 RGB arrays and never modify their input.
"""
from __future__ import annotations

import io
import math

import cv2
import numpy as np
from PIL import Image


def _srgb_decode(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


_TO_LINEAR = _srgb_decode(np.arange(256) / 255.0).astype(np.float32)
_ENC_STEPS = 1 << 14
_TO_SRGB = np.clip(
    np.round(255.0 * np.where((x := np.arange(_ENC_STEPS + 1) / _ENC_STEPS) <= 0.0031308, x * 12.92,
                              1.055 * np.power(x, 1 / 2.4) - 0.055)), 0, 255).astype(np.uint8)


def srgb_to_linear(u8: np.ndarray) -> np.ndarray:
    """8-bit sRGB -> linear light in [0, 1] (exact, by table)."""
    return _TO_LINEAR[np.asarray(u8, dtype=np.uint8)]


def linear_to_srgb(lin: np.ndarray) -> np.ndarray:
    """Linear light -> 8-bit sRGB, clipping (by a 16k-entry table: under half a level of error)."""
    idx = np.clip(np.asarray(lin, dtype=np.float32) * _ENC_STEPS + 0.5, 0, _ENC_STEPS).astype(np.int32)
    return _TO_SRGB[idx]


def _in_linear(u8: np.ndarray, fn) -> np.ndarray:
    return linear_to_srgb(fn(srgb_to_linear(u8)))


# --- focus -------------------------------------------------------------------------------------
def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    if sigma <= 0:
        return img.copy()
    return _in_linear(img, lambda x: cv2.GaussianBlur(x, (0, 0), sigma, borderType=cv2.BORDER_REFLECT))


def disk_kernel(radius: float) -> np.ndarray:
    r = max(radius, 0.5)
    n = int(math.ceil(r)) * 2 + 1
    yy, xx = np.mgrid[:n, :n] - n // 2
    # anti-aliased disk: coverage falls off over one pixel at the rim
    k = np.clip(r + 0.5 - np.sqrt(xx**2 + yy**2), 0, 1).astype(np.float32)
    return k / k.sum()


def kernel_sigma(k: np.ndarray) -> float:
    """Gaussian-equivalent sigma of a normalised blur kernel: the isotropic Gaussian with the kernel's
    total second moment, ``sqrt((var_x + var_y) / 2)``. A disk of radius r gives r/2; a streak of length
    L gives L/sqrt(24), not its along-streak std L/sqrt(12), as its cross direction stays sharp."""
    yy, xx = np.mgrid[: k.shape[0], : k.shape[1]] - k.shape[0] // 2  # kernels are square, centred
    var_x = (k * xx**2).sum() - (k * xx).sum() ** 2
    var_y = (k * yy**2).sum() - (k * yy).sum() ** 2
    return float(math.sqrt((var_x + var_y) / 2.0))


def _splat(points: np.ndarray, n: int | None = None) -> np.ndarray:
    """A normalised kernel drawn by the path ``points`` (N x 2, x and y in px around 0), each point
    shared bilinearly between its four pixels, centred in an odd square of side ``n`` (by default the
    smallest that holds the path)."""
    n = n or int(math.ceil(2 * float(np.abs(points).max()) + 2)) | 1
    k = np.zeros((n, n), np.float32)
    for x, y in points + n // 2:
        x0, y0 = int(math.floor(x)), int(math.floor(y))
        fx, fy = x - x0, y - y0
        for dx, dy, wgt in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
            if 0 <= x0 + dx < n and 0 <= y0 + dy < n:
                k[y0 + dy, x0 + dx] += wgt
    return k / k.sum()


def motion_kernel(length: float, angle_deg: float) -> np.ndarray:
    L = max(length, 1.0)
    t = np.linspace(-L / 2, L / 2, max(2, int(L * 4)))
    a = math.radians(angle_deg)
    return _splat(np.stack([t * math.cos(a), t * math.sin(a)], 1), int(math.ceil(L)) | 1)


def shake_kernel(sigma: float, rng: np.random.Generator, steps: int = 64) -> np.ndarray:
    """Camera shake: the path of a hand-held camera during the exposure, a random walk with inertia
    and the odd jerk back (after Boracchi and Foi's trajectories), scaled so that its
    Gaussian-equivalent sigma (``kernel_sigma``) is about ``sigma`` px (from 0.45: a path splatted
    on pixels cannot be finer). Real shake is a curve, not the straight streak of ``motion_kernel``."""
    v = rng.standard_normal(2)
    path = [np.zeros(2)]
    for _ in range(steps):
        v = 0.8 * v / max(float(np.linalg.norm(v)), 1e-6) + 0.6 * rng.standard_normal(2)
        v = v / max(float(np.linalg.norm(v)), 1e-6) * (-1 if rng.random() < 0.05 else 1)
        path.append(path[-1] + v)
    pts = np.array(path, np.float64)
    pts -= pts.mean(0)
    # bilinear splatting adds about 1/6 px^2 of variance per axis (a point between pixels is spread)
    target = math.sqrt(max(float(sigma) ** 2 - 1 / 6, 1e-4))
    pts *= target / max(math.sqrt(float((pts**2).sum(1).mean()) / 2), 1e-6)
    return _splat(pts)


def convolve(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    return _in_linear(img, lambda x: cv2.filter2D(x, -1, kernel, borderType=cv2.BORDER_REFLECT))


def defocus_blur(img: np.ndarray, radius: float) -> np.ndarray:
    return img.copy() if radius <= 0 else convolve(img, disk_kernel(radius))


def motion_blur(img: np.ndarray, length: float, angle_deg: float = 0.0) -> np.ndarray:
    return img.copy() if length <= 1 else convolve(img, motion_kernel(length, angle_deg))


#: Blur strengths tried by :func:`equivalent_blur_sigma` (px on the 256 crop), finely spaced where
#: the focus scale changes fastest (0.5-2 px).
_SIGMA_GRID = np.concatenate([[0.0], np.geomspace(0.2, 6.0, 40)]).astype(np.float32)


def equivalent_blur_sigma(clean: np.ndarray, soft: np.ndarray, mask: np.ndarray | None = None) -> float:
    """The Gaussian blur sigma (px) that best explains how ``soft`` lost detail against ``clean``.

    Softness that is not a blur, such as upscaling from a low resolution, gets the strength of
    the Gaussian blur closest to it (least squares over the face ``mask``, luminance, linear light),
    so every kind of softness lands on the one focus scale.
    """
    lum = lambda u8: srgb_to_linear(u8) @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    a, b = lum(clean), lum(soft)
    w = np.ones(a.shape, np.float32) if mask is None else mask.astype(np.float32)
    errs = [float((w * (cv2.GaussianBlur(a, (0, 0), float(s), borderType=cv2.BORDER_REFLECT) - b) ** 2).sum())
            if s > 0 else float((w * (a - b) ** 2).sum()) for s in _SIGMA_GRID]
    i = int(np.argmin(errs))
    if 0 < i < len(errs) - 1:  # parabolic refinement between the grid's neighbours, in log sigma
        e0, e1, e2 = errs[i - 1], errs[i], errs[i + 1]
        den = e0 - 2 * e1 + e2
        if den > 0 and _SIGMA_GRID[i - 1] > 0:
            t = float(np.clip(0.5 * (e0 - e2) / den, -0.5, 0.5))
            lo, hi = math.log(_SIGMA_GRID[i - 1]), math.log(_SIGMA_GRID[i + 1])
            return float(math.exp(math.log(_SIGMA_GRID[i]) + t * (hi - lo) / 2))
    return float(_SIGMA_GRID[i])


def gradient_energy(img: np.ndarray) -> float:
    """Mean squared Sobel gradient of the luminance (8-bit units) on the crop's middle half (a face
    crop's face): how much detail there is to judge focus on."""
    g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32) if img.ndim == 3 else img.astype(np.float32)
    e = cv2.Sobel(g, cv2.CV_32F, 1, 0) ** 2 + cv2.Sobel(g, cv2.CV_32F, 0, 1) ** 2
    h, w = e.shape
    return float(e[h // 4:h - h // 4, w // 4:w - w // 4].mean())


def reblur_ratio(img: np.ndarray) -> float:
    """Gradient energy a 1 px Gaussian blur leaves on the crop's middle: near 1 for soft content,
    lower for sharp content (a model-free sharpness, content-dependent: the clean training faces
    sit at 0.52-0.64, the same faces blurred by sigma 1 px at 0.74-0.79)."""
    g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return gradient_energy(cv2.GaussianBlur(g, (0, 0), 1.0)) / max(gradient_energy(g), 1e-6)


# --- noise -------------------------------------------------------------------------------------
def sensor_noise(img: np.ndarray, sigma: float, rng: np.random.Generator | None = None,
                 chroma: float = 0.5, signal_dependence: float = 0.5) -> np.ndarray:
    """Add noise whose standard deviation averages ``sigma`` 8-bit levels over the image.

    Shot noise grows with brightness (``signal_dependence`` of the variance is signal-dependent);
    ``chroma`` is the share of per-channel (colour) noise beside luminance noise.
    """
    if sigma <= 0:
        return img.copy()
    rng = rng or np.random.default_rng()
    x = img.astype(np.float32)
    lum = x.mean(axis=2, keepdims=True) / 255.0
    rel = (1 - signal_dependence) + signal_dependence * (lum / max(float(lum.mean()), 1e-3))
    std = sigma * np.sqrt(np.clip(rel, 0.05, 4.0))
    n_lum = rng.standard_normal(x.shape[:2] + (1,), dtype=np.float32)
    n_col = rng.standard_normal(x.shape, dtype=np.float32)
    n = math.sqrt(1 - chroma) * n_lum + math.sqrt(chroma) * n_col
    return np.clip(x + n * std + 0.5, 0, 255).astype(np.uint8)


#: Bilinear demosaicing: a photosite's missing colours are the mean of its nearest photosites of
#: that colour (red and blue: 2 or 4 neighbours; green: 4).
_DEMOSAIC_RB = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32) / 4
_DEMOSAIC_G = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]], np.float32) / 4


def raw_noise(img: np.ndarray, gain: float, rng: np.random.Generator, read: float = 0.02) -> np.ndarray:
    """Grain as a camera's sensor makes it: drawn on the raw Bayer mosaic (RGGB) in linear light,
    each photosite's shot noise of variance ``gain`` x its own colour's signal plus read noise of
    variance ``read`` x ``gain``, then interpolated to full colour as demosaicing does (bilinear),
    which clumps it over 2-3 px and colours it in blotches, unlike ``sensor_noise``'s independent
    pixels. Only the grain is demosaiced: the face's detail stays as it was (on the sensor the face
    was larger, and demosaicing's own softness is not this degradation)."""
    lin = srgb_to_linear(img)
    sites = np.zeros(lin.shape, np.float32)  # which channel each photosite records
    sites[0::2, 0::2, 0] = sites[0::2, 1::2, 1] = sites[1::2, 0::2, 1] = sites[1::2, 1::2, 2] = 1
    raw = (lin * sites).sum(2)
    grain = np.sqrt(max(float(gain), 0.0) * (raw + read)) * rng.standard_normal(raw.shape, dtype=np.float32)
    full = np.stack([cv2.filter2D(grain * sites[..., c], -1, k, borderType=cv2.BORDER_REFLECT)
                     for c, k in enumerate((_DEMOSAIC_RB, _DEMOSAIC_G, _DEMOSAIC_RB))], 2)
    return linear_to_srgb(lin + full)


def jpeg(img: np.ndarray, quality: int, phase: tuple[int, int] = (0, 0)) -> np.ndarray:
    """``img`` saved as a JPEG of ``quality`` and read back. ``phase`` (rows, columns, 0-7) puts the
    codec's 8x8 block grid that many pixels before the image's corner: a face cropped from a photo
    lands anywhere on its photo's grid, not on a block boundary."""
    dy, dx = (int(v) % 8 for v in phase)
    padded = np.pad(img, ((dy, 0), (dx, 0), (0, 0)), mode="reflect") if dy or dx else img
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(padded)).save(buf, format="JPEG", quality=int(quality))
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))[dy:, dx:]


def smooth_texture(img: np.ndarray, diameter: int, sigma_color: float) -> np.ndarray:
    """Edge-preserving smoothing (bilateral filter): what in-camera denoising, a video codec's
    deblocking and beauty filters do. Edges stay, skin texture and fine detail are lost."""
    return cv2.bilateralFilter(np.ascontiguousarray(img), int(diameter), float(sigma_color), float(diameter))


def unsharp_mask(img: np.ndarray, radius: float, amount: float) -> np.ndarray:
    """Sharpening as camera JPEG engines, phones, TV edge enhancement and web resizers apply it, in
    gamma-encoded values: ``img + amount * (img - blur(img, radius))``. It raises edge contrast
    (and halos, and grain); the finest detail a blur took stays lost."""
    x = img.astype(np.float32)
    soft = cv2.GaussianBlur(x, (0, 0), float(radius))
    return np.clip(x + float(amount) * (x - soft) + 0.5, 0, 255).astype(np.uint8)


def local_contrast(img: np.ndarray, clip: float) -> np.ndarray:
    """An editor's local-contrast finish (an "HDR" or "clarity" look): CLAHE on the lightness, 8x8
    tiles, clip limit ``clip``. It raises texture and grain most where the face is flat."""
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)
    lab[..., 0] = cv2.createCLAHE(float(clip), (8, 8)).apply(lab[..., 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def noise_level(clean: np.ndarray, noisy: np.ndarray) -> float:
    """The measured noise strength: RMS difference in 8-bit levels."""
    d = noisy.astype(np.float32) - clean.astype(np.float32)
    return float(np.sqrt(np.mean(d * d)))


# --- lighting ----------------------------------------------------------------------------------
def exposure(img: np.ndarray, ev: float) -> np.ndarray:
    """Scale linear light by 2**ev (+ brighter, - darker), clipping as a sensor would."""
    return img.copy() if ev == 0 else _in_linear(img, lambda x: x * (2.0**ev))


def gamma(img: np.ndarray, g: float) -> np.ndarray:
    return _in_linear(img, lambda x: np.power(np.clip(x, 0, 1), g))


def contrast(img: np.ndarray, factor: float) -> np.ndarray:
    """Scale contrast around the mean in linear light (factor < 1 flattens)."""
    def f(x):
        m = x.mean(axis=(0, 1), keepdims=True)
        return m + (x - m) * factor
    return _in_linear(img, f)


#: Rec. 709 weights of linear R, G, B in luminance.
LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)


def _luminance(lin: np.ndarray) -> np.ndarray:
    return lin @ LUMA


def monochrome(img: np.ndarray, weights: np.ndarray, tone: np.ndarray | None = None) -> np.ndarray:
    """Black and white through a colour filter (``weights`` of linear R, G, B), optionally toned
    (``tone``: per-channel gains, as a sepia or selenium print), with the face's mean luminance kept:
    a filter changes how tones render, not the exposure."""
    lin = srgb_to_linear(img)
    y = lin @ (weights / weights.sum()).astype(np.float32)
    face = face_mask(img.shape[0]) > 0.5 if img.shape[0] == img.shape[1] else np.ones(img.shape[:2], bool)
    y = y * (_luminance(lin)[face].mean() / max(float(y[face].mean()), 1e-6))
    gains = np.ones(3, np.float32) if tone is None else (tone / (tone @ LUMA)).astype(np.float32)
    return linear_to_srgb(y[..., None] * gains)


def exposure_error(clean: np.ndarray, lit: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Measured exposure error in stops between a reference and a relit face (0 = unchanged).

    The mean log-luminance shift, plus half a stop for every halving of contrast, plus the share
    of clipped pixels that lost all detail; computed on ``mask`` (the face) when given.
    """
    a, b = _luminance(srgb_to_linear(clean)), _luminance(srgb_to_linear(lit))
    if mask is not None:
        a, b = a[mask], b[mask]
    la, lb = np.log2(a + 1e-3), np.log2(b + 1e-3)
    shift = abs(float(lb.mean() - la.mean()))
    flat = max(0.0, -math.log2(max(float(lb.std()), 1e-3) / max(float(la.std()), 1e-3)))
    clipped = float(np.mean((b > 0.985) | (b < 0.0015))) - float(np.mean((a > 0.985) | (a < 0.0015)))
    return shift + 0.5 * flat + 2.0 * max(0.0, clipped)


# --- masks -------------------------------------------------------------------------------------
def face_mask(size: int, margin: float = 0.25, feather: float = 0.08) -> np.ndarray:
    """A soft elliptical mask of the face in a crop made with ``margin`` (1 inside, 0 outside)."""
    yy, xx = (np.mgrid[:size, :size] + 0.5) / size - 0.5
    inner = 0.5 / (1 + 2 * margin)
    r = np.sqrt((xx / (inner * 1.05)) ** 2 + (yy / (inner * 1.25)) ** 2)
    return np.clip((1 + feather - r) / (2 * feather), 0, 1).astype(np.float32)


def blend(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``a`` where mask is 1, ``b`` where it is 0."""
    m = mask[..., None]
    return np.clip(a.astype(np.float32) * m + b.astype(np.float32) * (1 - m) + 0.5, 0, 255).astype(np.uint8)
