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

    def correct_axis(self, image: np.ndarray, axis: str, reference: np.ndarray) -> np.ndarray:
        """Correct ``image`` on ``axis``; ``reference`` is the 256x256 face crop that measures it."""
        raise NotImplementedError

    def correct(self, image: np.ndarray, axes: Sequence[str], reference: np.ndarray | None = None) -> np.ndarray:
        """Apply the correctors of ``axes`` in series, in ``ORDER``."""
        from ..detection import crop_square
        from ..types import Box

        out = image
        for axis in [a for a in ORDER if a in axes]:
            ref = reference if reference is not None else crop_square(out, Box(0, 0, out.shape[1], out.shape[0]))
            out = self.correct_axis(out, axis, ref)
            reference = None  # later axes measure the corrected image
        return out


    def correct_lighting(self, image: np.ndarray, face_crop: np.ndarray) -> np.ndarray:
        """Correct the exposure of the whole photo, measured on ``face_crop`` (exposure is global)."""
        return self.correct_axis(image, "lighting", face_crop)

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
