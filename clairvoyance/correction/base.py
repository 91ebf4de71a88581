"""The corrector contract and registry."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import UnknownModelError

#: Axes are corrected in this order (see the package docstring for why).
ORDER: tuple[str, ...] = ("lighting", "noise", "focus")


class Corrector:
    """Corrects an RGB uint8 image region on the named axes; subclasses implement ``correct_axis``."""

    name = "base"
    version = "0"

    def correct_axis(self, image: np.ndarray, axis: str, reference: np.ndarray, scale: float) -> np.ndarray:
        """Correct ``image`` on ``axis``; ``reference`` is the 256x256 face crop that measures it and
        ``scale`` the number of ``image`` pixels per reference pixel."""
        raise NotImplementedError

    def correct(self, image: np.ndarray, axes: Sequence[str], reference: np.ndarray | None = None,
                scale: float | None = None) -> np.ndarray:
        """Apply the correctors of ``axes`` in series, in ``ORDER``. Without a ``reference`` the
        image is its own face crop; ``scale`` defaults to the image's height over the reference's."""
        from ..detection import crop_square
        from ..types import Box

        out = image
        for axis in [a for a in ORDER if a in axes]:
            ref = reference if reference is not None else crop_square(out, Box(0, 0, out.shape[1], out.shape[0]))
            k = scale if scale is not None else image.shape[0] / ref.shape[0]
            out = self.correct_axis(out, axis, ref, k)
            if reference is not None and scale is None:
                reference = None  # later axes measure the corrected image
        return out


    def correct_lighting(self, image: np.ndarray, face_crop: np.ndarray) -> np.ndarray:
        """Correct the exposure of the whole photo, measured on ``face_crop`` (exposure is global)."""
        return self.correct_axis(image, "lighting", face_crop, 1.0)

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


CORRECTORS = ("learned", "classical")


def default_corrector_name() -> str:
    from .learned import shipped_generators

    return "learned" if shipped_generators() else "classical"


def get_corrector(name: str | None = None) -> Corrector:
    """``learned`` (the shipped generators, classical for any axis without one) or ``classical``."""
    name = name or default_corrector_name()
    if name == "classical":
        from .classical import ClassicalCorrector
        return ClassicalCorrector()
    if name == "learned":
        from .learned import LearnedCorrector
        return LearnedCorrector()
    raise UnknownModelError("corrector", name, list(CORRECTORS))
