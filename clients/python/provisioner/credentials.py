"""The user JWT, shared with the TypeScript CLI through one cache file (client/credentials.ts).

``provisioner login`` in a shell and ``Client.from_config()`` in a notebook then use the same login:
``credentials.json`` (0600) in the cache dir holds ``{"url", "token", "expires_at"}`` for one API.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, Mapping, Optional, Tuple
from urllib.parse import urlencode, urlsplit, urlunsplit, parse_qsl

from .cluster_tokens import ClusterTokenCache
from .config import Config
from .errors import ApiError
from .routes import ROUTES
from .session import Session
from .storage import epoch, read_json, write_private_json
from .types import LoginResult

# Renew a user JWT this long before it expires, so that a long call never starts with a dying token.
RENEW_BEFORE = 5 * 60.0

Prompt = Callable[[str, str], None]


def api_token_hash(api_token: str) -> str:
    return hashlib.sha256(api_token.encode("utf-8")).hexdigest()[:32]


class Credentials:
    """Which user JWT to send: the configured one (PROVISIONER_TOKEN), else the cached one while it
    has more than five minutes left and the API has not refused it, else a fresh login with the
    configured API token (PROVISIONER_API_TOKEN), the configured GitHub token or, inside GitHub Actions with ``id-token: write``, an OIDC token.

    A cached login is reused only by the credential it came from: a job given an API token on a
    machine where a person logged in must not run with the person's full rights, nor the person
    with the job's narrow ones. The cache names an API token by a hash, never the token itself.
    """

    def __init__(
        self,
        config: Config,
        session: Session,
        env: Optional[Mapping[str, str]] = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._session = session
        self._env = os.environ if env is None else env
        self._now = now
        self._current: Optional[Dict[str, str]] = None

    @property
    def cache_file(self) -> str:
        return os.path.join(self._config.cache_dir, "credentials.json")

    def user_token(self, refused: Optional[str] = None) -> Optional[str]:
        """The user JWT to send. Given the one the API just refused, forgets it (and the cluster JWTs
        of this API, signed with the same keys) before looking for another."""
        if refused is not None:
            self._forget_refused(refused)
        if self._config.token:
            return self._config.token
        cached = self._current or self._read_cache()
        if cached and cached.get("api_token") == self._api_token_hash() and epoch(cached.get("expires_at")) - self._now() > RENEW_BEFORE:
            self._current = cached
            return cached["token"]
        if self._config.api_token:
            return self.login_with_api_token(self._config.api_token)["token"]
        if self._config.github_token:
            return self.login_with_github_token(self._config.github_token)["token"]
        if self.in_github_actions():
            return self.login_with_github_actions()["token"]
        return None

    def login_with_github_token(self, github_token: str) -> LoginResult:
        return self._login({"github_token": github_token})

    def login_with_api_token(self, api_token: str) -> LoginResult:
        """Exchanges a Provisioner API token (``prv_...``) for a user JWT carrying its scopes (and
        clusters); renewed the same way when close to expiry."""
        return self._login({"api_token": api_token}, api_token_hash(api_token))

    def in_github_actions(self) -> bool:
        return bool(self._env.get("ACTIONS_ID_TOKEN_REQUEST_URL") and self._env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"))

    def login_with_github_actions(self) -> LoginResult:
        """Requests an OIDC token from the Actions runtime (needs ``permissions: id-token: write``)."""
        request_url = self._env.get("ACTIONS_ID_TOKEN_REQUEST_URL")
        request_token = self._env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
        if not request_url or not request_token:
            raise ApiError(0, "not_in_github_actions", 'No GitHub Actions OIDC token available: run inside a job with "permissions: id-token: write".')
        parts = urlsplit(request_url)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "audience"]
        query.append(("audience", self._config.audience))
        url = urlunsplit(parts._replace(query=urlencode(query)))
        status, answer = self._fetch_json(urllib.request.Request(url, headers={"authorization": f"bearer {request_token}"}))
        if status >= 400:
            raise ApiError(status, "oidc_request_failed", f"GitHub Actions refused an OIDC token (HTTP {status}).")
        value = answer.get("value") if isinstance(answer, dict) else None
        if not value:
            raise ApiError(0, "oidc_request_failed", "GitHub Actions answered without a token.")
        return self._login({"oidc_token": value})

    def login_with_device_flow(self, prompt: Prompt) -> LoginResult:
        """GitHub's device flow: shows a code to enter at GitHub, waits, then logs in with the token
        GitHub issues. Needs the OAuth app's client id."""
        client_id = self._config.client_id
        if not client_id:
            raise ApiError(0, "no_client_id", "The device flow needs an OAuth app client id: set client_id in [defaults] or PROVISIONER_CLIENT_ID.")
        _, started = self._fetch_json(self._form("/login/device/code", {"client_id": client_id, "scope": "read:org"}))
        prompt(started["verification_uri"], started["user_code"])
        interval = float(started["interval"])
        deadline = self._now() + float(started["expires_in"])
        while self._now() < deadline:
            time.sleep(interval)
            _, answer = self._fetch_json(self._form("/login/oauth/access_token", {
                "client_id": client_id,
                "device_code": started["device_code"],
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            }))
            if answer.get("access_token"):
                return self.login_with_github_token(answer["access_token"])
            if answer.get("error") == "slow_down":
                interval += 5
            elif answer.get("error") != "authorization_pending":
                raise ApiError(401, "device_flow_failed", f"GitHub ended the device flow: {answer.get('error') or 'no token'}.")
        raise ApiError(0, "timeout", "The device code expired before it was entered; run login again.")

    def cached_token(self) -> Optional[str]:
        """The user JWT cached for this API, whatever its age; None when there is none."""
        cached = self._current or self._read_cache()
        return cached.get("token") if cached else None

    def forget(self) -> None:
        """Forgets the cached user JWT of this API (the server is not told: see ``logout``)."""
        self._current = None
        try:
            os.remove(self.cache_file)
        except FileNotFoundError:
            pass

    def _login(self, body: Dict[str, str], from_api_token: Optional[str] = None) -> LoginResult:
        method, path = ROUTES["login"]
        result: LoginResult = self._session.request(method, path, body=body, auth=False)
        self._current = {"url": self._config.url, "token": result["token"], "expires_at": result["expires_at"]}
        if from_api_token is not None:
            self._current["api_token"] = from_api_token
        write_private_json(self.cache_file, self._current)
        return result

    def _forget_refused(self, refused: str) -> None:
        ClusterTokenCache(self._config.cache_dir).forget(self._config.url)
        # Only if still cached: a request running alongside may have replaced it already.
        cached = self._current or self._read_cache()
        if cached and cached.get("token") == refused:
            self.forget()

    def _api_token_hash(self) -> Optional[str]:
        """Which API token the cached login must come from; None: from no API token."""
        return api_token_hash(self._config.api_token) if self._config.api_token else None

    def _read_cache(self) -> Optional[Dict[str, str]]:
        cached = read_json(self.cache_file)
        if isinstance(cached, dict) and cached.get("url") == self._config.url and isinstance(cached.get("token"), str):
            return cached
        return None

    def _form(self, path: str, fields: Dict[str, str]) -> urllib.request.Request:
        return urllib.request.Request(
            self._config.github_url + path,
            data=urlencode(fields).encode("ascii"),
            headers={"accept": "application/json", "content-type": "application/x-www-form-urlencoded"},
            method="POST",
        )

    def _fetch_json(self, request: urllib.request.Request) -> Tuple[int, Any]:
        """One request outside the API (GitHub, the Actions runtime): its status and JSON."""
        try:
            with urllib.request.urlopen(request, timeout=self._config.timeout) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as answer:
            return answer.code, None
        except (urllib.error.URLError, OSError, ValueError) as failure:
            raise ApiError(0, "unreachable", f"cannot reach {urlsplit(request.full_url).netloc}: {failure}.") from None
