"""``ez-pixel install``: find a project's kind and packaging, then wire ez-pixel into it.

One module per concern:

- :mod:`.files`: the project root, reading and writing files inside it, diffs;
- :mod:`.containers`: appending to a ``[...]``/``{...}`` literal in place
  (shared by the Python and TOML editors);
- :mod:`.pysource`: ``ast``-guided edits of Python modules;
- :mod:`.tomlscan`: a small line-preserving TOML scanner and editor;
- :mod:`.deps`: which file lists the project's dependencies; :mod:`.depedit`:
  adding ez-pixel to it, in its own format;
- :mod:`.detect`: what kind of project it is (Django, Flask, FastAPI, Celery,
  plain) and why;
- :mod:`.wiring`: the ``init_pixel()`` lines inserted for each kind, and structlog's
  processor; :mod:`.djangolog`: Django's ``LOGGING``; :mod:`.lifespan`: the
  FastAPI/Starlette lifespan that flushes;
- :mod:`.identity`: which project on the server this checkout is (found again,
  given, or registered), and its ``~/.ezcoder/projects.json`` entry
  (:mod:`ez_pixel.cli.ezcoder`, :mod:`ez_pixel.cli.management`);
- :mod:`.keys`: ``.env`` and ``.gitignore``;
- :mod:`.command`: the ``install`` command, which puts them together and
  verifies with a probe (:mod:`ez_pixel.cli.probe`).

Nothing here imports a third-party package: the installer runs in any
environment ez-pixel runs in.
"""
