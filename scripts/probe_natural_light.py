"""Does a model take natural light for bad exposure?

Real portraits in natural light are lit from one side (a window, the sun, a hat's brim) and carry a
colour cast (tungsten, shade, a red hat's reflection); studio faces, most of the training sources,
are evenly lit in white light. This relights the clean test-split faces of DATA_DIR three ways, each
keeping the face's mean log-luminance:

* side light: a smooth side-to-side gain of +-``stops`` in linear light;
* a warm cast: red up and blue down by ``log gain`` (tungsten, sunset; negative: a cool cast);
* a relit background: everything but the person (``synth.person_mask``, GrabCut) ``stops`` darker
  (a low-key portrait, a dark room) or brighter (high key, a window or the sky behind), the face as
  it was; and, as a check that does not share training's GrabCut (``train-iqa --background-share``),
  everything outside a soft oval around the face (``degrade.face_mask``).

It prints the lighting label the ladder would give them (the measured exposure error,
``degrade.exposure_error``: about 0, so a label about 1) and each model's median lighting score and
pass rates under the ``budget`` and ``per-axis`` rules. A model that scores them well below their
label reads natural light as a defect (version 11 scored the Kodak portrait ``kodim04``, red hat,
pink backdrop, 0.55 on lighting).

Usage: python scripts/probe_natural_light.py DATA_DIR [--model NAME ...]
"""
from __future__ import annotations

import numpy as np

from clairvoyance import degrade
from clairvoyance.training import synth
from clairvoyance.training.probe import lighting_label, pass_rates, probe_setup

#: Side-to-side gains tried, in stops from the face's middle to each side.
STOPS = (0.5, 1.0, 1.5)
#: Warm casts tried: log gain of red up and blue down (negative: cool).
CASTS = (-0.3, 0.15, 0.3, 0.45)
#: Background exposures tried, in stops (the person kept).
BACKGROUNDS = (-3.0, -1.5, 1.0, 2.0)


def _same_luminance(lin: np.ndarray, out: np.ndarray, mask: np.ndarray) -> np.ndarray:
    lum = lambda x: np.log2(x @ degrade.LUMA + 1e-3)[mask].mean()
    return degrade.linear_to_srgb(out * np.exp2(lum(lin) - lum(out)))


def side_lit(img: np.ndarray, stops: float, mask: np.ndarray) -> np.ndarray:
    """``img`` lit brighter on the right and darker on the left by up to ``stops``."""
    lin = degrade.srgb_to_linear(img)
    ramp = np.linspace(-stops, stops, img.shape[1], dtype=np.float32)[None, :, None]
    return _same_luminance(lin, lin * np.exp2(ramp), mask)


def warm_cast(img: np.ndarray, log_gain: float, mask: np.ndarray) -> np.ndarray:
    """``img`` with red raised and blue lowered by ``log_gain`` (a cool cast when negative)."""
    lin = degrade.srgb_to_linear(img)
    return _same_luminance(lin, lin * np.exp(np.array([log_gain, 0.0, -log_gain], np.float32)), mask)


def main() -> None:
    crops, models, mask = probe_setup(__doc__)
    print(f"{len(crops.images)} clean test-split faces in natural light")
    persons = [synth.person_mask(c) for c in crops.images]
    trips = {"as they are": lambda c, person: c}
    trips |= {f"side light +-{s:.1f} stops": (lambda c, person, s=s: side_lit(c, s, mask)) for s in STOPS}
    trips |= {f"{'warm' if g > 0 else 'cool'} cast {abs(g):.2f}": (lambda c, person, g=g: warm_cast(c, g, mask))
              for g in CASTS}
    trips |= {f"background {ev:+.1f} stops": (lambda c, person, ev=ev: synth.relit_background(c, ev, person))
              for ev in BACKGROUNDS}
    oval = degrade.face_mask(256)
    trips |= {f"background {ev:+.1f} stops, oval": (lambda c, person, ev=ev: synth.relit_background(c, ev, oval))
              for ev in (BACKGROUNDS[0], BACKGROUNDS[-1])}
    for name, relight in trips.items():
        x = np.stack([relight(img, person) for img, person in zip(crops.images, persons)])
        label = lighting_label(crops.images, x, mask)
        line = f"{name:28s} lighting label {label:.2f}"
        for m in models:
            p = m.predict_array(x, batch=32, native_sizes=crops.natives)
            line += f" | {m.label} lighting {np.median(p[:, 2]):.2f}, pass {pass_rates(p)}"
        print(line)


if __name__ == "__main__":
    main()
