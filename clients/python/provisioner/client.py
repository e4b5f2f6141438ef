"""``Client``: the configuration, the session and the services, wired as the TypeScript
``createClient()`` wires them, so both behave alike against the same config and cache."""
from __future__ import annotations

import os
from dataclasses import replace
from typing import Any, Dict, Iterator, List, Mapping, Optional

from .call import Call
from .cluster_tokens import ClusterTokenCache
from .clusters import Clusters
from .config import Config, load_config
from .credentials import Credentials, Prompt
from .errors import ApiError
from .runs import Runs
from .session import Session
from .types import Identity, LoginResult
from .workbenches import Workbenches
from .workspaces import Workspaces


class Auth:
    """Logging in and out; the login is cached in the file ``provisioner login`` uses."""

    def __init__(self, credentials: Credentials, call: Call) -> None:
        self._credentials = credentials
        self._call = call

    def login(self, github_token: str) -> LoginResult:
        return self._credentials.login_with_github_token(github_token)

    def login_with_github_actions(self) -> LoginResult:
        return self._credentials.login_with_github_actions()

    def login_with_device_flow(self, prompt: Prompt) -> LoginResult:
        """``prompt(verification_uri, user_code)`` tells the user where to enter the code."""
        return self._credentials.login_with_device_flow(prompt)

    def login_with_api_token(self, api_token: str) -> LoginResult:
        """Exchanges a Provisioner API token (``prv_...``) for a session limited to its scopes."""
        return self._credentials.login_with_api_token(api_token)

    def logout(self) -> None:
        """Ends the session at the API (``POST /v1/logout``: refused everywhere within a minute), then
        forgets the cached login. The cache goes even when the API cannot be told."""
        try:
            if self._credentials.cached_token() is not None:
                self._call("logout")
        except ApiError:
            pass
        finally:
            self._credentials.forget()

    def whoami(self) -> Identity:
        return self._call("whoami")

    def token(self) -> Optional[str]:
        """The user JWT the client sends (renewed when close to expiry), or None when anonymous."""
        return self._credentials.user_token()


class Tokens:
    """Scoped, expiring API tokens for automation (``POST/GET/DELETE /v1/tokens``)."""

    def __init__(self, call: Call) -> None:
        self._call = call

    def create(self, name: str, scopes: List[str], expires_in: str, clusters: Optional[List[str]] = None) -> Dict[str, Any]:
        """A new token: the answer's ``token`` (``prv_...``) is shown this once."""
        body: Dict[str, Any] = {"name": name, "scopes": scopes, "expires_in": expires_in}
        if clusters is not None:
            body["clusters"] = clusters
        return self._call("token-create", body=body)

    def list(self, owner: Optional[str] = None, limit: int = 25) -> Iterator[Dict[str, Any]]:
        """Your tokens, newest first (administrators: ``owner=`` another login's), every page."""
        query: Dict[str, Any] = {"limit": limit}
        if owner is not None:
            query["owner"] = owner
        while True:
            page = self._call("token-list", query=query)
            yield from page["items"]
            if not page.get("next_token"):
                return
            query["next_token"] = page["next_token"]

    def revoke(self, token_id: str) -> None:
        """Ends the token and every session made from it within a minute; revoking twice is fine."""
        self._call("token-revoke", token_id=token_id)


class Client:
    """The Provisioner API: ``clusters``, ``runs``, ``workbenches``, ``workspaces``, ``auth``, and
    ``call`` for any operation of the route table by name."""

    def __init__(self, config: Config, env: Optional[Mapping[str, str]] = None, retry_base: float = 0.25) -> None:
        self.config = config
        # The session asks the credentials for the user JWT; the credentials log in through the session.
        self._session = Session(config.url, config.retries, config.timeout, lambda refused: self._credentials.user_token(refused), retry_base)
        self._credentials = Credentials(config, self._session, os.environ if env is None else env)
        self.call = Call(self._session)
        self.auth = Auth(self._credentials, self.call)
        self.clusters = Clusters(self.call, ClusterTokenCache(config.cache_dir), lambda: self._credentials.user_token(), config.url)
        self.runs = Runs(self.call, config.timeout)
        self.workbenches = Workbenches(self.call)
        self.workspaces = Workspaces(self.call)
        self.tokens = Tokens(self.call)

    @classmethod
    def from_config(cls, env: Optional[Mapping[str, str]] = None, home: Optional[str] = None, **overrides: Any) -> "Client":
        """The client ``provisioner`` (the CLI) would be: ``~/.config/provisioner.toml`` or
        ``PROVISIONER_CONFIG``, the ``PROVISIONER_*`` variables over it, and the shared login cache.
        ``overrides`` replace fields of the result (``url=...``, ``github_token=...``)."""
        config = load_config(env, home)
        return cls(replace(config, **overrides) if overrides else config, env)

    def cluster_token(self, cluster: str) -> str:
        """A cluster JWT for ``cluster``, cached until a minute before it expires: call it before each
        request of a client library and attach it as ``Authorization: Bearer <token>``."""
        return self.clusters.access(cluster)["token"]
