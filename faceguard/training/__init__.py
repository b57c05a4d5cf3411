"""Learning face encoders: data, samplers, miners, losses, models, the training loop and export."""
