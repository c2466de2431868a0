"""Training: the Noise Response Method and its baselines on the Hugging Face Trainer."""
