"""``ez-pixel install``: find a project's kind and packaging, then wire ez-pixel into it.

One module per concern:

- :mod:`.files`: the project root, reading and writing files inside it, diffs;
- :mod:`.containers`: appending to a ``[...]``/``{...}`` literal in place
  (shared by the Python and TOML editors);
- :mod:`.pysource`: ``ast``-guided edits of Python modules;
- :mod:`.toml`: a small line-preserving TOML scanner and editor;
- :mod:`.deps`: the project's dependency list, in its own format;
- :mod:`.detect`: what kind of project it is (Django, Flask, FastAPI, Celery,
  plain) and why;
- :mod:`.wiring`: the code inserted for each kind, and for structlog;
- :mod:`.keys`: registering the project, ``.env`` and ``.gitignore``;
- :mod:`.command`: the ``install`` command, which puts them together.

Nothing here imports a third-party package: the installer runs in any
environment ez-pixel runs in.
"""
