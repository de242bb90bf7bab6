"""The collector's route table: which function answers which path and method."""

import re
from typing import List

from . import api
from .http import Route
from .ingest import ingest

ROUTES: List[Route] = [
    (re.compile(r"^/ingest$"), {"POST": ingest}),
    (re.compile(r"^/api/errors$"), {"GET": api.list_errors}),
    (re.compile(r"^/api/errors/([0-9]{1,18})$"), {"GET": api.get_error}),
    (re.compile(r"^/api/errors/([0-9]{1,18})/resolve$"), {"POST": api.resolve_error}),
    (re.compile(r"^/api/projects$"), {"POST": api.create_project}),
]
