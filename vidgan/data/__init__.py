"""Training data: degradation synthesis, clip datasets, procedural content."""
