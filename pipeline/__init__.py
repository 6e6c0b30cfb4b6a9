"""qscribe pipeline: offline transcription, speakers and de-identification stages.

The library is plain Python over small dataclasses (see :mod:`pipeline.transcript`).
It never imports Prefect; the thin flows in ``flows/`` wire the stages together.
"""

import logging

from pipeline import offline as _offline

_offline.apply()

__version__ = "0.1.0"

# A library logger with no handlers: the application decides where logs go.
logging.getLogger("pipeline").addHandler(logging.NullHandler())
