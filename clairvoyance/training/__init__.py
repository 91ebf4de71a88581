"""Training: face-crop datasets, synthetic labels, the IQA training loop and its metrics."""
