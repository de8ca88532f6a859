"""The topology's sample requests made concrete: every `$name` becomes a fresh UUID."""

from __future__ import annotations

import string
import uuid
from collections import defaultdict


def fill(*templates: str) -> tuple[str, ...]:
    """The templates with each `$name` replaced by a new UUID, the same one for the same name
    in all of them (so a request and its other body share their request_id)."""
    ids: defaultdict[str, str] = defaultdict(lambda: str(uuid.uuid4()))
    return tuple(string.Template(template).substitute(ids) for template in templates)
