"""Private files and times, shared by the user-JWT and cluster-JWT caches."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from typing import Any, Optional


def read_json(path: str) -> Any:
    """The file's JSON, or None when it is missing or unreadable: a cache that is gone is empty."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def write_private_json(path: str, value: Any) -> None:
    """Writes ``value`` as the TypeScript client does (compact JSON) to a 0600 file in a 0700 dir.

    The mode is set at creation and again after, so a file another tool made wider is narrowed: it
    holds bearer tokens.
    """
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(json.dumps(value, separators=(",", ":")))


def epoch(iso: Optional[str]) -> float:
    """Seconds since the epoch of an ISO 8601 time (``...Z`` included, which 3.9's parser refuses)."""
    if not iso:
        return float("-inf")
    text = iso[:-1] + "+00:00" if iso.endswith("Z") else iso
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return float("-inf")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
