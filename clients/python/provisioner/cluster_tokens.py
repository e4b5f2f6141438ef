"""Cluster JWTs kept between calls, in the file the TypeScript client uses (client/token-cache.ts).

One-shot processes (a notebook restarted, the CLI in a Makefile loop) then reuse a cluster JWT as a
long-lived client does, and Python and the CLI share them.
"""
from __future__ import annotations

import hashlib
import os
import time
from typing import Callable, Dict, Optional

from .storage import epoch, read_json, write_private_json
from .types import ClusterToken


def cache_key(url: str, user_token: Optional[str], cluster: str) -> str:
    """The API, a hash of the caller's user JWT (never the JWT itself), the cluster."""
    caller = hashlib.sha256(user_token.encode("utf-8")).hexdigest()[:32] if user_token else "anonymous"
    return f"{url}|{caller}|{cluster}"


class ClusterTokenCache:
    """``cluster-tokens.json`` (0600) in the cache dir; expired entries are dropped on write."""

    def __init__(self, directory: str, now: Callable[[], float] = time.time) -> None:
        self.path = os.path.join(directory, "cluster-tokens.json")
        self._now = now

    def get(self, key: str) -> Optional[ClusterToken]:
        return self._read().get(key)

    def set(self, key: str, token: ClusterToken) -> None:
        live = {k: t for k, t in self._read().items() if epoch(t.get("expires_at")) > self._now()}
        live[key] = token
        write_private_json(self.path, live)

    def forget(self, url: str) -> None:
        """Drops every token of one API, whoever the caller: its keys changed, clusters refuse them all."""
        write_private_json(self.path, {k: t for k, t in self._read().items() if not k.startswith(f"{url}|")})

    def _read(self) -> Dict[str, ClusterToken]:
        tokens = read_json(self.path)
        return tokens if isinstance(tokens, dict) else {}
