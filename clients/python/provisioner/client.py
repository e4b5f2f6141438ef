"""``Client``: the configuration, the session and the services, wired as the TypeScript
``createClient()`` wires them, so both behave alike against the same config and cache."""
from __future__ import annotations

import os
from dataclasses import replace
from typing import Any, Mapping, Optional

from .call import Call
from .cluster_tokens import ClusterTokenCache
from .clusters import Clusters
from .config import Config, load_config
from .credentials import Credentials, Prompt
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

    def logout(self) -> None:
        self._credentials.logout()

    def whoami(self) -> Identity:
        return self._call("whoami")

    def token(self) -> Optional[str]:
        """The user JWT the client sends (renewed when close to expiry), or None when anonymous."""
        return self._credentials.user_token()


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
