"""The default project ``ez-pixel serve`` keeps in its database, read without changing it.

``serve`` makes a project on its first start and records it in the database
(``./ez-pixel.db`` by default, in the folder it was started from). ``send-test``
run in that folder with no key anywhere uses that project, and ``errors``,
``show`` and ``resolve`` take its id and secret from there, so ``ez-pixel
serve`` then any other command works with nothing copied between them. The
file is only ever opened read-only.
"""

import os
import sqlite3
import urllib.parse
from typing import Dict, Optional

_QUERY = (
    "SELECT p.id, p.key, p.secret FROM projects p JOIN collector_settings s"
    " ON s.value = p.id WHERE s.name = 'default_project'"
)


def read_default_project(path: str) -> Optional[Dict[str, str]]:
    """``{"id", "key", "secret"}`` of the default project in ``path``; None when it has none.

    Raises ``FileNotFoundError`` when there is no such file and
    ``sqlite3.Error`` when it cannot be read as ``serve``'s database.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(path)
    uri = f"file:{urllib.parse.quote(os.path.abspath(path))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:
        row = conn.execute(_QUERY).fetchone()
    finally:
        conn.close()
    if row is None or not all(isinstance(value, str) and value for value in row):
        return None
    return {"id": row[0], "key": row[1], "secret": row[2]}


def serve_default_project(path: str) -> Optional[Dict[str, str]]:
    """:func:`read_default_project`, with a missing or foreign file simply no project."""
    try:
        return read_default_project(path)
    except (OSError, sqlite3.Error):
        return None
