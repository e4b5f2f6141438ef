"""API tokens from Python: a scoped token for a job, its limits, revocation, logout."""
from __future__ import annotations

import pytest

from provisioner import ApiError, Client

from conftest import OLGA, MakeClient


def test_a_job_with_an_api_token_can_do_what_its_scopes_allow_and_nothing_else(olga: Client, make_client: MakeClient, tmp_path) -> None:
    made = olga.tokens.create("nightly", ["clusters:read"], "1d", clusters=["acme-dev"])
    assert made["token"].startswith("prv_") and made["scopes"] == ["clusters:read"]
    try:
        job = make_client(PROVISIONER_API_TOKEN=made["token"], PROVISIONER_CACHE_DIR=str(tmp_path / "job-cache"))

        assert job.auth.whoami()["scopes"] == ["clusters:read"]
        assert job.clusters.get("acme-dev")["name"] == "acme-dev"
        with pytest.raises(ApiError) as refused:
            job.workspaces.create(name="job-ws")
        assert (refused.value.status, refused.value.code) == (403, "insufficient_scope")
        listed = [token["id"] for token in olga.tokens.list()]
        assert made["id"] in listed and all("token" not in token for token in olga.tokens.list())
    finally:
        olga.tokens.revoke(made["id"])
    olga.tokens.revoke(made["id"])  # revoking twice is fine

    with pytest.raises(ApiError) as gone:
        make_client(PROVISIONER_API_TOKEN=made["token"], PROVISIONER_CACHE_DIR=str(tmp_path / "other-cache")).auth.whoami()
    assert (gone.value.status, gone.value.code) == (401, "invalid_api_token")


def test_logout_ends_the_session_at_the_api_and_forgets_it(make_client: MakeClient, cache_dir) -> None:
    client = make_client(OLGA)
    session = client.auth.token()
    assert session and (cache_dir / "credentials.json").exists()

    client.auth.logout()

    assert not (cache_dir / "credentials.json").exists()
    anonymous = make_client(PROVISIONER_TOKEN=session)
    with pytest.raises(ApiError) as refused:
        anonymous.auth.whoami()
    assert (refused.value.status, refused.value.code) == (401, "invalid_token")


def test_a_job_given_an_api_token_never_runs_with_the_persons_cached_login(olga: Client, make_client: MakeClient) -> None:
    # olga logged in on this machine (the cache holds her full session); a job there sets an API token.
    assert olga.auth.whoami().get("scopes") is None
    made = olga.tokens.create("narrow", ["clusters:read"], "1d")
    try:
        job = make_client(PROVISIONER_API_TOKEN=made["token"])
        assert job.auth.whoami()["scopes"] == ["clusters:read"]
        with pytest.raises(ApiError) as refused:
            job.workspaces.create(name="job-ws")
        assert (refused.value.status, refused.value.code) == (403, "insufficient_scope")

        # And the person, back in that shell, gets her own session again, not the job's narrow one.
        assert make_client(OLGA).auth.whoami().get("scopes") is None
    finally:
        olga.tokens.revoke(made["id"])
