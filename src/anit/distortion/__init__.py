"""Distortion scoring: importing this registers the hard and soft scorers."""

from anit.distortion import hard, soft  # noqa: F401  (registration)
from anit.distortion.base import DEFAULTS, SCORERS, Scorer, register_batch_scorer, register_scorer, resolve_scorers

__all__ = ["DEFAULTS", "SCORERS", "Scorer", "register_batch_scorer", "register_scorer", "resolve_scorers"]
