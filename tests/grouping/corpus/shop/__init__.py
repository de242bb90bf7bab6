"""A small shop whose bugs make the grouping corpus: each bug is named in run.py."""
