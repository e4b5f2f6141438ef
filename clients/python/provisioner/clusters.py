"""``client.clusters``: the cluster operations, the cluster JWT cache, and the wait for a status."""
from __future__ import annotations

import base64
import json
import time
from typing import Callable, Iterator, Optional, Set, Tuple

from .call import Call, Progress, every_item, page_query, poll
from .cluster_tokens import ClusterTokenCache, cache_key
from .errors import ApiError
from .storage import epoch
from .types import Cluster, ClusterEvent, ClusterStatus, ClusterToken, Page

# Re-issue a cached cluster JWT this long before it expires: a request signed with it must still
# reach the cluster in time.
REUSE_MARGIN = 60.0
# How long the API's published key ids are trusted before a cached cluster JWT is checked again.
KEY_IDS_TTL = 60.0


class Clusters:
    """Deploy, inspect and destroy clusters; ``access`` gives cluster JWTs, cached across processes."""

    def __init__(
        self,
        call: Call,
        cache: ClusterTokenCache,
        user_token: Callable[[], Optional[str]],
        url: str,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._call = call
        self._cache = cache
        self._user_token = user_token
        self._url = url
        self._now = now
        self._key_ids: Optional[Tuple[float, Set[str]]] = None

    def list_page(self, limit: Optional[int] = None, next_token: Optional[str] = None) -> Page:
        return self._call("list-clusters", query=page_query(limit, next_token))

    def list(self) -> Iterator[Cluster]:
        """Every cluster the caller may see, across pages."""
        return every_item(self.list_page)

    def get(self, name: str) -> Cluster:
        return self._call("get-cluster", cluster=name)

    def deploy(self, name: str, nodes: Optional[int] = None, version: Optional[str] = None, ttl: Optional[str] = None) -> Cluster:
        """Starts (or resizes) a cluster: ``status`` is ``deploying`` until ``wait_for_status``."""
        body = {k: v for k, v in {"nodes": nodes, "version": version, "ttl": ttl}.items() if v is not None}
        return self._call("deploy", body=body, cluster=name)

    def schedule_destroy(self, name: str, at: Optional[str] = None, in_: Optional[str] = None) -> Cluster:
        """Destroys the cluster later: ``at`` an ISO 8601 time, or ``in_`` a duration such as ``"2h"``."""
        body = {k: v for k, v in {"at": at, "in": in_}.items() if v is not None}
        return self._call("schedule-destroy", body=body, cluster=name)

    def cancel_destroy(self, name: str) -> Cluster:
        return self._call("cancel-destroy", cluster=name)

    def destroy(self, name: str) -> Cluster:
        return self._call("destroy", cluster=name)

    def events_page(self, name: str, limit: Optional[int] = None, next_token: Optional[str] = None) -> Page:
        return self._call("cluster-events", query=page_query(limit, next_token), cluster=name)

    def events(self, name: str) -> Iterator[ClusterEvent]:
        """The cluster's audit trail, newest first, across pages (stop iterating when you have enough)."""
        return every_item(lambda limit, token: self.events_page(name, limit, token))

    def access(self, name: str) -> ClusterToken:
        """A cluster JWT, cached (in the file the CLI shares) until a minute before it expires.

        A cached one is given only while the API still publishes the key that signed it: after two
        key rotations or a wiped server, clusters refuse it.
        """
        cached = self._cache.get(cache_key(self._url, self._user_token(), name))
        if cached and epoch(cached.get("expires_at")) - self._now() > REUSE_MARGIN and self._still_signed(cached["token"]):
            return cached
        token: ClusterToken = self._call("access", cluster=name)
        # Keyed by the user JWT after the call: the API may have refused the one before, and it was renewed.
        self._cache.set(cache_key(self._url, self._user_token(), name), token)
        return token

    def wait_for_status(
        self,
        name: str,
        status: ClusterStatus,
        timeout: float = 600.0,
        progress: Optional[Progress] = None,
        interval: float = 2.0,
    ) -> Cluster:
        """Polls until the cluster is ``status``; raises ApiError ``operation_failed`` when it fails
        (``failed``, or ``degraded`` while waiting for ``running``) and ``timeout`` when time runs out."""

        def settled(cluster: Cluster, _elapsed: float) -> bool:
            if cluster["status"] == status:
                return True
            if cluster["status"] == "failed":
                raise ApiError(0, "operation_failed", f"{name} failed: {cluster.get('reason') or 'no reason given'}.", {"cluster": cluster})
            # A degraded cluster does not recover by itself: a deploy repairs it.
            if cluster["status"] == "degraded" and status == "running":
                raise ApiError(0, "operation_failed", f"{name} is degraded: {cluster.get('reason') or 'a node was lost'}; deploy it again to repair it.", {"cluster": cluster})
            return False

        def timed_out(cluster: Cluster, elapsed: float) -> ApiError:
            why = f": {cluster['reason']}" if cluster.get("reason") else ""
            return ApiError(0, "timeout", f"{name} is still {cluster['status']} after {round(elapsed)} s{why}.", {"cluster": cluster})

        return poll(lambda: self.get(name), settled, timeout, interval, progress, timed_out)

    def _still_signed(self, token: str) -> bool:
        """Whether the API still publishes the key that signed ``token`` (JWKS read at most once a minute)."""
        if self._key_ids is None or self._now() - self._key_ids[0] >= KEY_IDS_TTL:
            keys = self._call("jwks")["keys"]
            self._key_ids = (self._now(), {k["kid"] for k in keys if isinstance(k.get("kid"), str)})
        return _key_id(token) in self._key_ids[1]


def _key_id(token: str) -> Optional[str]:
    """The ``kid`` of a JWT's protected header; the signature is the cluster's to verify."""
    try:
        header = token.split(".")[0]
        decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (ValueError, IndexError):
        return None
    kid = decoded.get("kid") if isinstance(decoded, dict) else None
    return kid if isinstance(kid, str) else None
