"""The real local API (``npm start -- --memory``) for the whole session, and ways to reach it.

The server runs as in test/support/api-process.ts: its own PORT, data dir and HOME, a catalog
written here, dev users (PROVISIONER_DEV_USERS) instead of GitHub, and a fake GitHub Actions OIDC
issuer (tests/support/fake_actions.ts) so that OIDC logins are checked for real.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from provisioner import Client  # noqa: E402

REPO = Path(__file__).resolve().parents[3]

# Dev tokens (at least 8 characters): alice administers (the catalog's admins), olga is an org member.
ALICE = "dev-token-alice"
OLGA = "dev-token-olga"
DEV_USERS = {ALICE: {"login": "alice", "orgs": ["acme"]}, OLGA: {"login": "olga", "orgs": ["acme"]}}

_CLONE = 'git clone --quiet --no-checkout -- "$RUN_REPOSITORY" src && git -C src checkout --quiet --detach "$RUN_VERSION" --'
CATALOG = {
    "organization": "acme",
    "admin_team": "provisioner-admins",
    "admins": ["alice"],
    "clusters": [
        {"name": "demo", "visibility": "public", "backend": {"kind": "local"}},
        {"name": "acme-dev", "visibility": "private", "max_nodes": 8, "backend": {"kind": "local"}},
        {"name": "broken", "visibility": "private", "backend": {"kind": "local", "command": ["false"]}},
    ],
    "actions": [{"repository": "acme/sliderule", "ref": "refs/heads/main", "level": "administrator"}],
    "runs": {
        "time_limit": "10m",
        "plans": {
            "pass": {
                "kind": "test",
                "repository": "fixture:run-repo",
                "steps": [
                    {"name": "clone", "run": _CLONE},
                    {"name": "cluster-check", "run": 'test -n "$CLUSTER_TOKEN" && echo "testing against $CLUSTER_URL"'},
                    {"name": "selftests", "run": "bash src/selftest.sh"},
                ],
            },
            "slow": {"kind": "release", "repository": "fixture:run-repo", "steps": [{"name": "build-cluster", "run": "echo building; sleep 60"}]},
        },
        "test": "pass",
        "release": "slow",
    },
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Process:
    """A child process whose output is collected in the background, so its pipe never fills."""

    def __init__(self, args: List[str], env: Dict[str, str]) -> None:
        self.child = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.output: List[str] = []
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        assert self.child.stdout is not None
        for line in self.child.stdout:
            self.output.append(line)

    def wait_for(self, marker: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.output):
                if marker in line:
                    return line
            if self.child.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.child.args} did not print {marker!r}: {''.join(self.output)}")

    def stop(self) -> None:
        if self.child.poll() is None:
            self.child.terminate()
            try:
                self.child.wait(10)
            except subprocess.TimeoutExpired:
                self.child.kill()
                self.child.wait()


def _base_env() -> Dict[str, str]:
    """This process's environment without anything that would point a child elsewhere."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PROVISIONER_", "ACTIONS_", "XDG_"))}


@dataclass
class Api:
    url: str
    actions_token_url: str
    home: Path


@pytest.fixture(scope="session")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("api")
    actions = Process(["node", "--import", "tsx", "clients/python/tests/support/fake_actions.ts"], _base_env())
    try:
        endpoints = json.loads(actions.wait_for('"issuer"'))
        (root / "catalog.json").write_text(json.dumps(CATALOG))
        (root / "dev-users.json").write_text(json.dumps(DEV_USERS))
        (root / "home").mkdir()
        port = free_port()
        server = Process(
            ["node", "--import", "tsx", "local/main.ts", "--memory"],
            {
                **_base_env(),
                "HOME": str(root / "home"),
                "PORT": str(port),
                "PROVISIONER_DATA_DIR": str(root / "data"),
                "PROVISIONER_CATALOG": str(root / "catalog.json"),
                "PROVISIONER_DEV_USERS": str(root / "dev-users.json"),
                "PROVISIONER_GITHUB_OIDC_ISSUER": endpoints["issuer"],
                # Tokens that are not dev tokens go nowhere rather than to github.com.
                "PROVISIONER_GITHUB_API_URL": f"http://127.0.0.1:{free_port()}",
                "PROVISIONER_LOG_LEVEL": "WARN",
            },
        )
        try:
            server.wait_for("listening on")
            yield Api(url=f"http://127.0.0.1:{port}", actions_token_url=endpoints["token_url"], home=root / "home")
        finally:
            server.stop()
    finally:
        actions.stop()


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def user_env(api: Api, tmp_path: Path, cache_dir: Path) -> Dict[str, str]:
    """What a user's shell would have: the API's URL, no config file, a cache of their own."""
    return {"PROVISIONER_URL": api.url, "PROVISIONER_CONFIG": str(tmp_path / "absent.toml"), "PROVISIONER_CACHE_DIR": str(cache_dir)}


MakeClient = Callable[..., Client]


@pytest.fixture
def make_client(user_env: Dict[str, str]) -> MakeClient:
    """A client as ``Client.from_config()`` makes it, from ``user_env`` plus ``extra`` variables."""

    def make(github_token: Optional[str] = None, **extra: str) -> Client:
        env = {**user_env, **extra}
        if github_token:
            env["PROVISIONER_GITHUB_TOKEN"] = github_token
        return Client.from_config(env, home=user_env["PROVISIONER_CACHE_DIR"])

    return make


@pytest.fixture
def alice(make_client: MakeClient) -> Client:
    return make_client(ALICE)


@pytest.fixture
def olga(make_client: MakeClient) -> Client:
    return make_client(OLGA)


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


Cli = Callable[..., CliResult]


@pytest.fixture
def cli(user_env: Dict[str, str]) -> Cli:
    """The TypeScript CLI (``node client/cli/bin.mjs``) with the same environment as the Python client."""

    def run(*args: str, stdin: str = "", **extra: str) -> CliResult:
        done = subprocess.run(
            ["node", "client/cli/bin.mjs", *args],
            cwd=REPO,
            env={**_base_env(), **user_env, **extra},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return CliResult(done.returncode, done.stdout, done.stderr)

    return run


# One scripted answer: status, headers, body.
Answer = Tuple[int, dict, dict]


class Scripted:
    def __init__(self) -> None:
        self.answers: List[Answer] = []
        # Seconds to wait before answering, to look like a server that hangs.
        self.delay = 0.0
        self.seen: List[Tuple[str, str, float, str]] = []
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def _handler(self) -> type:
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                scripted.seen.append((self.command, self.path, time.monotonic(), self.headers.get("authorization") or body))
                time.sleep(scripted.delay)
                status, headers, answer = scripted.answers.pop(0) if scripted.answers else (200, {}, {"ok": True})
                data = json.dumps(answer).encode()
                self.send_response(status)
                for name, value in {"content-type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    server = Scripted()
    yield server
    server.server.shutdown()
    server.server.server_close()
