"""One login for the TypeScript CLI and Python: the same cache files, renewal and refused tokens."""
from __future__ import annotations

import json
import os
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from provisioner import ApiError
from conftest import ALICE, OLGA


def iso_in(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def cached(cache_dir: Path) -> dict:
    return json.loads((cache_dir / "credentials.json").read_text())


def test_a_login_by_the_typescript_cli_is_used_by_python(cli, make_client, cache_dir: Path) -> None:
    login = cli("login", "--token", "-", stdin=ALICE)
    assert login.code == 0, login.stderr

    client = make_client()  # no GitHub token: only the cached login can say who this is

    assert client.auth.whoami() == {"login": "alice", "level": "administrator", "orgs": ["acme"]}
    assert client.auth.token() == cached(cache_dir)["token"]


def test_a_login_by_python_is_used_by_the_cli_and_so_are_its_cluster_jwts(cli, make_client, cache_dir: Path, api) -> None:
    client = make_client()
    result = client.auth.login(OLGA)
    token = client.cluster_token("acme-dev")

    whoami = cli("whoami", "--json")
    access = cli("access", "acme-dev")

    assert cached(cache_dir) == {"url": api.url, "token": result["token"], "expires_at": result["expires_at"]}
    assert stat.S_IMODE(os.stat(cache_dir / "credentials.json").st_mode) == 0o600
    assert json.loads(whoami.stdout) == {"login": "olga", "level": "org_member", "orgs": ["acme"]}
    assert access.stdout.strip() == token

    client.auth.logout()
    assert not (cache_dir / "credentials.json").exists()


def test_a_cached_login_with_less_than_five_minutes_left_is_renewed_with_the_github_token(make_client, cache_dir: Path) -> None:
    first = make_client().auth.login(OLGA)
    entry = cached(cache_dir)
    (cache_dir / "credentials.json").write_text(json.dumps({**entry, "expires_at": iso_in(6 * 60)}))

    assert make_client(OLGA).auth.token() == first["token"]  # six minutes left: kept

    (cache_dir / "credentials.json").write_text(json.dumps({**entry, "expires_at": iso_in(4 * 60)}))
    renewed = make_client(OLGA).auth.token()

    assert renewed != first["token"]
    assert cached(cache_dir)["token"] == renewed


def test_in_github_actions_a_fresh_oidc_token_logs_in_with_the_configured_audience(make_client, api, cache_dir: Path) -> None:
    actions = {"ACTIONS_ID_TOKEN_REQUEST_URL": api.actions_token_url, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "actions-request-token"}

    me = make_client(**actions).auth.whoami()

    assert me["level"] == "administrator"
    assert cached(cache_dir)["token"]
    (cache_dir / "credentials.json").unlink()
    with pytest.raises(ApiError) as wrong_audience:
        make_client(**actions, PROVISIONER_OIDC_AUDIENCE="someone-else").auth.whoami()
    assert wrong_audience.value.status == 401


def test_a_token_the_api_refuses_is_dropped_and_replaced_by_a_fresh_login(make_client, cache_dir: Path, api) -> None:
    client = make_client(OLGA)
    client.cluster_token("acme-dev")
    forged = {"url": api.url, "token": "eyJhbGciOiJFUzI1NiIsImtpZCI6Im5vIn0.e30.c2ln", "expires_at": iso_in(3600)}
    (cache_dir / "credentials.json").write_text(json.dumps(forged))

    me = make_client(OLGA).auth.whoami()

    assert me["login"] == "olga"
    assert cached(cache_dir)["token"] != forged["token"]
    assert json.loads((cache_dir / "cluster-tokens.json").read_text()) == {}


def test_without_a_way_to_log_in_again_the_refusal_stands(make_client, cache_dir: Path, api) -> None:
    forged = {"url": api.url, "token": "eyJhbGciOiJFUzI1NiIsImtpZCI6Im5vIn0.e30.c2ln", "expires_at": iso_in(3600)}
    cache_dir.mkdir(parents=True)
    (cache_dir / "credentials.json").write_text(json.dumps(forged))

    with pytest.raises(ApiError) as refused:
        make_client().auth.whoami()

    assert (refused.value.status, refused.value.code) == (401, "invalid_token")
    assert not (cache_dir / "credentials.json").exists()
