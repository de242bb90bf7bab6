"""A tiny Django shop whose errors are reported by ez-pixel."""
