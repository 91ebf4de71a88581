"""SCRFD (InsightFace's sample-and-computation-redistributed face detector) run with onnxruntime.

The model file ``weights/scrfd.onnx`` (3.3 MB, a 640x640 SCRFD with five keypoints) and the decoding
below (anchor centres, distance-to-box, NMS) come from the ``scrfd`` 0.3.0 package by cospectrum,
Apache-2.0; ``weights/SCRFD-LICENSE.txt`` holds that licence and InsightFace's terms for the weights.
Only numpy, OpenCV and onnxruntime are used here.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .base import Detection, Detector

MODEL_PATH = Path(__file__).resolve().parent.parent / "weights" / "scrfd.onnx"
#: The network's fixed input side; photos are letterboxed into it.
INPUT_SIDE = 640
_STRIDES = (8, 16, 32)
_ANCHORS = 2


class SCRFDDetector(Detector):
    """A modern single-stage CNN detector: finds noisy and over-exposed faces that YuNet misses, but sees
    the photo at 640 px, so it loses more of the smallest faces of a large group photo.

    ``min_confidence`` (0-1) trades recall for precision: 0.6 (the default) finds no face in dog photos
    (0.5 finds one); ``nms`` is the overlap (IoU) above which the weaker of two boxes is dropped.
    """

    name = "scrfd"
    default_confidence = 0.6

    def __init__(self, model_path: str | Path = MODEL_PATH, nms: float = 0.4, threads: int = 1):
        import onnxruntime as ort  # imported lazily: it loads a large shared library

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads  # the pipeline parallelises over photos, not inside one
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self._outputs = [o.name for o in self._session.get_outputs()]
        self.nms = nms
        self._centres = {s: _anchor_centres(INPUT_SIDE // s, s) for s in _STRIDES}

    def detect(self, rgb: np.ndarray, min_confidence: float | None = None) -> list[Detection]:
        conf = self.default_confidence if min_confidence is None else min_confidence
        h, w = rgb.shape[:2]
        r = INPUT_SIDE / max(h, w)
        nw, nh = max(1, round(w * r)), max(1, round(h * r))
        canvas = np.zeros((INPUT_SIDE, INPUT_SIDE, 3), np.float32)
        interp = cv2.INTER_AREA if r < 1 else cv2.INTER_LINEAR
        canvas[:nh, :nw] = cv2.resize(rgb, (nw, nh), interpolation=interp)
        blob = ((canvas - 127.5) / 128.0).transpose(2, 0, 1)[None]
        outs = self._session.run(self._outputs, {self._input: np.ascontiguousarray(blob)})
        n = len(_STRIDES)
        boxes, scores = [], []
        for i, s in enumerate(_STRIDES):
            sc = outs[i].reshape(-1)
            keep = sc >= conf
            if not keep.any():
                continue
            d = outs[i + n].reshape(-1, 4)[keep] * s
            c = self._centres[s][keep]
            boxes.append(np.stack([c[:, 0] - d[:, 0], c[:, 1] - d[:, 1], c[:, 0] + d[:, 2], c[:, 1] + d[:, 3]], 1))
            scores.append(sc[keep])
        if not boxes:
            return []
        b, sc = np.concatenate(boxes) / r, np.concatenate(scores)
        xywh = [[float(x0), float(y0), float(x1 - x0), float(y1 - y0)] for x0, y0, x1, y1 in b]
        keep = cv2.dnn.NMSBoxes(xywh, sc.astype(float).tolist(), conf, self.nms)
        out = []
        for k in np.ravel(keep):
            x, y, bw, bh = xywh[k]
            x0, y0 = max(0.0, x), max(0.0, y)
            x1, y1 = min(float(w), x + bw), min(float(h), y + bh)
            if x1 - x0 >= 2 and y1 - y0 >= 2:
                out.append(Detection(x0, y0, x1 - x0, y1 - y0, float(sc[k])))
        return out


def _anchor_centres(side: int, stride: int) -> np.ndarray:
    """Centres of the anchors of one feature level, ``_ANCHORS`` per cell, in input pixels."""
    ys, xs = np.mgrid[:side, :side]
    c = np.stack([xs, ys], -1).reshape(-1, 2).astype(np.float32) * stride
    return np.repeat(c, _ANCHORS, axis=0)
