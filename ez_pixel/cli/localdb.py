"""The default project ``ez-pixel serve`` keeps in its database, read without changing it.

``serve`` makes a project on its first start and records it in the database
(``./ez-pixel.db`` by default, in the folder it was started from). ``send-test``
run in that folder with no key anywhere uses that project, so ``ez-pixel serve``
then ``ez-pixel send-test`` works with nothing copied between them. The file is
opened read-only: a missing or foreign file is simply no project.
"""

import os
import sqlite3
import urllib.parse
from typing import Dict, Optional

_QUERY = (
    "SELECT p.id, p.key, p.secret FROM projects p JOIN collector_settings s"
    " ON s.value = p.id WHERE s.name = 'default_project'"
)


def serve_default_project(path: str) -> Optional[Dict[str, str]]:
    """``{"id", "key", "secret"}`` of the default project in ``path``; None when there is none."""
    if not os.path.isfile(path):
        return None
    try:
        uri = f"file:{urllib.parse.quote(os.path.abspath(path))}?mode=ro"
        conn = sqlite3.connect(uri, uri=True)
        try:
            row = conn.execute(_QUERY).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    if row is None or not all(isinstance(value, str) and value for value in row):
        return None
    return {"id": row[0], "key": row[1], "secret": row[2]}
