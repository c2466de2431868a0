"""Evaluation under clean, noisy and unseen instructions."""
