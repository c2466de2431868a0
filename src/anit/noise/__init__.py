"""Noisy instructions: importing this registers the rule-based and model-written noise types."""

from anit.noise import operators, rewrite  # noqa: F401  (registration)
from anit.noise.operators import NOISES, NoiseType, Noisy, register_noise

__all__ = ["NOISES", "NoiseType", "Noisy", "register_noise"]
