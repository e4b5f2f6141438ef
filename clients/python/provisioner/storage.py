"""Private files and times, shared by the user-JWT and cluster-JWT caches."""
from __future__ import annotations

import json
import os
import tempfile
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

    It holds bearer tokens: the file is 0600 from its creation (mkstemp), next to its final name,
    and renamed over it, so that a CLI or notebook reading at the same moment sees the old file or
    the new one, never half of one.
    """
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".", suffix=".json")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(value, separators=(",", ":")))
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


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
