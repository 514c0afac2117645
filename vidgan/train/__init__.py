"""Training: the shared GAN loop and each model's task (data, losses, export)."""
