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


def get_corrector(name: str = "classical") -> Corrector:
    from .classical import ClassicalCorrector

    registry = {"classical": ClassicalCorrector}
    try:
        return registry[name]()
    except KeyError:
        raise UnknownModelError("corrector", name, list(registry)) from None
