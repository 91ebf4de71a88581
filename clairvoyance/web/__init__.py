"""The local web app: the IQA browser (see what Clairvoyance sees in a photo, and a run's verdicts)
and the assisted-labelling studio (calibration chart, labelling queue, labels in SQLite).

    from clairvoyance.web import create_app
    app = create_app("shoot/", "labels.sqlite", data_dir="data/faces")

``clairvoyance serve`` builds this app and runs it under uvicorn on localhost.
"""
from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
