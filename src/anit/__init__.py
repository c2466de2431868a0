"""anit: Adversarial Noisy Instruction Tuning.

Noise a task's instruction, score how far it drifted, train a causal LM to respond to that drift,
and measure how robust the result is under clean, noisy and unseen instructions.
"""

__version__ = "0.1.0"
