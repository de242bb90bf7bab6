"""Worker side: a capture becomes a wire event (build, frames, fingerprint, scrub, fit, encode)."""
