"""The one place the SDK does HTTP to the API (client/session.ts in Python)."""
from __future__ import annotations

import json
import random
import re
import socket
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, Mapping, Optional, Union
from urllib.parse import quote, urlencode

from .errors import ApiError

# Gives the user JWT to send, or None to send none. Called again with the token the API just
# refused (401 invalid_token): forget it, and return a new one if one can be had.
TokenSource = Callable[[Optional[str]], Optional[str]]

QueryValue = Union[str, int, bool, None]

_RETRYABLE = frozenset({429, 503})
# Retry-After is honoured up to this many seconds: a server asking for longer is treated as down.
_MAX_RETRY_AFTER = 60.0
_MAX_BACKOFF = 10.0


def _no_token(_refused: Optional[str]) -> Optional[str]:
    return None


class Session:
    """JSON both ways, the API's errors as ApiError, bounded retries and a timeout per attempt.

    Retries (exponential backoff with jitter, or the server's ``Retry-After``) cover 429, 503 and
    network errors: the API answers those before acting or for reads. Other 4xx are never retried,
    except a refused user JWT: renewed once, and the request sent once more, since the API refuses
    a token before the operation runs.
    """

    def __init__(
        self,
        url: str,
        retries: int = 3,
        timeout: float = 30.0,
        token: TokenSource = _no_token,
        retry_base: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url
        self.retries = retries
        self.timeout = timeout
        self._token = token
        self._retry_base = retry_base
        self._sleep = sleep

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: Optional[Mapping[str, QueryValue]] = None,
        auth: bool = True,
    ) -> Any:
        """Sends one API request; returns the decoded JSON answer (None for an empty one)."""
        url = self.url + path
        given = {name: _query_text(value) for name, value in (query or {}).items() if value is not None}
        if given:
            url += "?" + urlencode(given)
        token = self._token(None) if auth else None
        try:
            return self._send(method, url, path, body, token)
        except ApiError as error:
            # Keys rotated or the server's data wiped: the cached token will never pass again.
            if not token or error.status != 401 or error.code != "invalid_token":
                raise
            renewed = self._token(token)
            if not renewed or renewed == token:
                raise
            return self._send(method, url, path, body, renewed)

    def _send(self, method: str, url: str, path: str, body: Any, token: Optional[str]) -> Any:
        headers = {"accept": "application/json", "user-agent": "provisioner-client-python"}
        data = None
        if body is not None:
            headers["content-type"] = "application/json"
            data = json.dumps(body).encode("utf-8")
        if token:
            headers["authorization"] = f"Bearer {token}"
        attempt = 0
        while True:
            request = urllib.request.Request(url, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return _decode(response.read())
            except urllib.error.HTTPError as answer:
                text = answer.read()
                retry_after = answer.headers.get("retry-after")
                if answer.code in _RETRYABLE and attempt < self.retries:
                    self._sleep(self._backoff(attempt, retry_after))
                    attempt += 1
                    continue
                raise _api_error(method, path, answer.code, text, answer.headers.get("x-request-id")) from None
            except (urllib.error.URLError, OSError) as failure:
                if attempt < self.retries:
                    self._sleep(self._backoff(attempt))
                    attempt += 1
                    continue
                timed_out = isinstance(failure, socket.timeout) or isinstance(getattr(failure, "reason", None), socket.timeout)
                if timed_out:
                    raise ApiError(0, "timeout", f"{method} {path}: no answer within {self.timeout:g} s.") from None
                raise ApiError(0, "unreachable", f"{method} {path}: cannot reach {self.url}.") from None

    def _backoff(self, attempt: int, retry_after: Optional[str] = None) -> float:
        """Seconds to wait: the server's Retry-After (bounded), else exponential with jitter."""
        try:
            seconds = float(retry_after) if retry_after is not None else float("nan")
        except ValueError:
            seconds = float("nan")
        if seconds == seconds and seconds >= 0:  # not NaN
            return min(seconds, _MAX_RETRY_AFTER)
        base = self._retry_base * 2**attempt
        return min(base + random.random() * base, _MAX_BACKOFF)


def fill_path(template: str, params: Mapping[str, str]) -> str:
    """``/things/{id}`` with ``{"id": "a b"}`` is ``/things/a%20b``: a name never becomes a path."""

    def value(placeholder: "re.Match[str]") -> str:
        name = placeholder.group(1)
        if name not in params:
            raise ValueError(f"{template} needs {name}=")
        return quote(str(params[name]), safe="")

    return re.sub(r"\{(\w+)\}", value, template)


def _query_text(value: QueryValue) -> str:
    # JavaScript's String(true) is "true": the API's query schemas expect that spelling.
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _api_error(method: str, path: str, status: int, raw: bytes, request_id: Optional[str]) -> ApiError:
    answer = _decode(raw)
    error: Dict[str, Any] = {}
    if isinstance(answer, dict) and isinstance(answer.get("error"), dict):
        error = answer["error"]
    return ApiError(
        status,
        str(error.get("code") or f"http_{status}"),
        str(error.get("message") or f"{method} {path} answered HTTP {status}."),
        error.get("details") if isinstance(error.get("details"), dict) else None,
        request_id,
    )
