"""Classification: quality models registered by name; ``get_model`` finds one by name or path.

``classical`` is always available. Learned models are the ``*.pt`` files shipped in
``clairvoyance/weights`` (named after the file), or any model file given by path.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..errors import UnknownModelError
from .base import QualityModel
from .classical import ClassicalModel

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
#: The learned model used when none is named, if its weights ship; else ``classical``.
DEFAULT_LEARNED = "iqa-fast"


def shipped_models() -> list[str]:
    """Names of the learned quality models whose weights ship with the package."""
    return sorted(p.stem for p in WEIGHTS_DIR.glob("iqa*.pt"))


def available_models() -> list[str]:
    return ["classical", *shipped_models()]


def default_model_name() -> str:
    return DEFAULT_LEARNED if DEFAULT_LEARNED in shipped_models() else "classical"


@lru_cache(maxsize=8)
def get_model(name: str | None = None) -> QualityModel:
    """The quality model called ``name`` (or stored at path ``name``); ``None`` gives the default.

    Unknown names raise UnknownModelError listing the valid ones.
    """
    name = name or default_model_name()
    if name == "classical":
        return ClassicalModel()
    path = model_file(name)
    from .cnn import CNNModel  # torch is imported only when a learned model is used

    return CNNModel.from_file(path)


def model_file(name: str) -> Path:
    """The file of the learned model called ``name`` (a shipped name, or a path to a ``.pt`` file)."""
    if name in shipped_models():
        return WEIGHTS_DIR / f"{name}.pt"
    path = Path(name)
    if not (path.suffix == ".pt" and path.is_file()):
        raise UnknownModelError("model", name, available_models() + ["PATH/TO/model.pt"])
    return path


__all__ = ["QualityModel", "ClassicalModel", "get_model", "available_models", "default_model_name"]
