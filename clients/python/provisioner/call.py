"""The typed call under every service, and the two loops they share: pages and polls."""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, Iterator, Mapping, Optional, TypeVar

from .errors import ApiError
from .routes import ROUTES, WITHOUT_USER_TOKEN
from .session import QueryValue, Session, fill_path
from .types import Page

T = TypeVar("T")

# A list page as the services fetch it: limit and next_token in, one page out.
PageFetcher = Callable[[Optional[int], Optional[str]], Page]


class Call:
    """Any operation of the API by its name in src/api/routes.ts: ``call("get-cluster", cluster="demo")``
    fills ``{cluster}`` in the path; the session does the HTTP (retries, errors, the user JWT)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __call__(
        self,
        operation: str,
        body: Any = None,
        query: Optional[Mapping[str, QueryValue]] = None,
        **params: str,
    ) -> Any:
        if operation not in ROUTES:
            raise ValueError(f'unknown operation "{operation}"')
        method, template = ROUTES[operation]
        return self.session.request(method, fill_path(template, params), body=body, query=query, auth=operation not in WITHOUT_USER_TOKEN)


def every_item(fetch: PageFetcher, page_size: int = 100) -> Iterator[Any]:
    """Every item of a paged list, a page fetched only when the one before is used up."""
    next_token: Optional[str] = None
    while True:
        page = fetch(page_size, next_token)
        yield from page["items"]
        next_token = page.get("next_token")
        if not next_token:
            return


def page_query(limit: Optional[int], next_token: Optional[str], **filters: QueryValue) -> Dict[str, QueryValue]:
    return {"limit": limit, "next_token": next_token, **filters}


Progress = Callable[[Any, float], None]


def poll(
    read: Callable[[], T],
    settled: Callable[[T, float], bool],
    timeout: float,
    interval: float,
    progress: Optional[Progress],
    timed_out: Callable[[T, float], ApiError],
    now: Callable[[], float] = time.monotonic,
) -> T:
    """Reads until ``settled`` says so (it raises on a failure), at most ``timeout`` seconds.

    ``progress(value, elapsed)`` is called after each read, so a notebook can show where it is.
    """
    started = now()
    while True:
        value = read()
        elapsed = now() - started
        if progress is not None:
            progress(value, elapsed)
        if settled(value, elapsed):
            return value
        if elapsed >= timeout:
            raise timed_out(value, elapsed)
        time.sleep(min(interval, max(0.0, timeout - elapsed)))
