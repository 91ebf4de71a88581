"""Correction: make a failing face pass, one corrector per quality axis, applied in series.

The order is lighting -> noise -> focus: exposure first (denoising a dark face works on the wrong
levels), then denoise (sharpening amplifies noise), then sharpen.
"""
from __future__ import annotations

from .base import ORDER, Corrector, get_corrector
from .blend import paste_back

__all__ = ["ORDER", "Corrector", "get_corrector", "paste_back"]
