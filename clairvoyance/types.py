"""Frozen dataclasses at the stage boundaries: a face, its scores, a verdict with its reasons."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

AXES: tuple[str, ...] = ("focus", "noise", "lighting")


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in the pixel coordinates of the upright (EXIF-rotated) original."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return self.w * self.h

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]


@dataclass(frozen=True, eq=False)
class Face:
    """A detected subject: its box in the original and a 256x256 RGB uint8 crop of it.

    ``whole_image`` is True when no face was found and the whole photo stands in as the subject.
    ``native_size`` is the side in original pixels that the crop was resized from (small faces are
    upscaled, which the quality model must not mistake for blur). ``tiles``, for a whole image, are
    256x256 areas covering it at its own pixels: a scene's subject is unknown, so it is judged on
    its best areas (``QualityModel.score_faces``), not on one reduced square.
    """

    box: Box
    crop: np.ndarray
    confidence: float = 1.0
    whole_image: bool = False
    native_size: int = 256
    tiles: np.ndarray | None = None


@dataclass(frozen=True)
class Scores:
    """Quality scores in [0, 1] per axis: 0 is unacceptable, 1 exemplary, 0.5 the edge of acceptable."""

    focus: float
    noise: float
    lighting: float

    def as_dict(self) -> dict[str, float]:
        return {a: round(float(getattr(self, a)), 4) for a in AXES}


@dataclass(frozen=True)
class Tolerances:
    """The edge of acceptable per axis, each in [0, 1] (a face at it, perfect elsewhere, passes), and
    the ``rule`` that joins the axes: ``budget`` (losses on the axes add up) or ``per-axis`` (every
    score >= its tolerance); see ``clairvoyance.verdict``."""

    focus: float = 0.5
    noise: float = 0.5
    lighting: float = 0.5
    rule: str = "budget"

    def __post_init__(self) -> None:
        from .verdict import check_rule

        for a in AXES:
            v = getattr(self, a)
            if not 0.0 <= float(v) <= 1.0:
                raise ValueError(f"tolerance for {a} must be in [0, 1], got {v}")
        check_rule(self.rule)

    @classmethod
    def coerce(cls, value: "Tolerances | tuple | list | dict | None") -> "Tolerances":
        if value is None:
            return cls()
        if isinstance(value, Tolerances):
            return value
        if isinstance(value, dict):
            return cls(**{k: (str(v) if k == "rule" else float(v)) for k, v in value.items()})
        return cls(*(float(v) for v in value))

    @property
    def values(self) -> tuple[float, float, float]:
        return (float(self.focus), float(self.noise), float(self.lighting))

    def failed(self, scores: Scores) -> list[str]:
        """Axes on which ``scores`` fail, empty when the face passes (``clairvoyance.verdict``)."""
        from .verdict import failed_axes

        return failed_axes([getattr(scores, a) for a in AXES], self.values, self.rule)

    def budget_used(self, scores: Scores) -> float:
        """How much of the allowance the face's losses use (at most 1 to pass under ``budget``)."""
        from .verdict import budget_used

        return budget_used([getattr(scores, a) for a in AXES], self.values)

    def as_dict(self) -> dict[str, float]:
        return {a: float(getattr(self, a)) for a in AXES}


@dataclass(frozen=True)
class FaceResult:
    """One face after classification: where it is, how it scored, which axes failed."""

    box: Box
    scores: Scores
    failed: tuple[str, ...] = field(default_factory=tuple)
    whole_image: bool = False

    def as_dict(self) -> dict:
        d = {"box": self.box.as_list(), "scores": self.scores.as_dict(), "failed": list(self.failed)}
        if self.whole_image:
            d["whole_image"] = True
        return d


STATUSES = ("selected", "corrected", "rejected", "no_face", "error")


@dataclass(frozen=True)
class ImageResult:
    """The outcome for one photo, as written to report.json."""

    file: str
    status: str
    faces: tuple[FaceResult, ...] = ()
    outputs: tuple[str, ...] = ()
    error: str | None = None
    reason: str = ""

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "status": self.status,
            "faces": [f.as_dict() for f in self.faces],
            "outputs": list(self.outputs),
            "error": self.error,
            "reason": self.reason,
        }
