"""Clusters end to end against the local API: deploy, wait, cluster JWTs, schedules, events, destroy."""
from __future__ import annotations

import base64
import json
import os
import stat
from typing import List, Tuple

import pytest

from provisioner import ApiError, Client


def claims(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_deploys_waits_with_progress_schedules_and_destroys(olga: Client) -> None:
    seen: List[Tuple[str, float]] = []

    deploying = olga.clusters.deploy("acme-dev", nodes=2)
    running = olga.clusters.wait_for_status("acme-dev", "running", timeout=60, interval=0.2, progress=lambda c, s: seen.append((c["status"], s)))

    assert deploying["status"] in ("deploying", "running")
    assert running["name"] == "acme-dev" and running["nodes"] == 2 and running["deployed_by"] == "github:olga"
    assert seen[-1][0] == "running" and all(elapsed >= 0 for _, elapsed in seen)

    scheduled = olga.clusters.schedule_destroy("acme-dev", in_="2h")
    assert scheduled["destroy_at"] is not None
    assert olga.clusters.cancel_destroy("acme-dev")["destroy_at"] is None

    olga.clusters.destroy("acme-dev")
    assert olga.clusters.wait_for_status("acme-dev", "absent", timeout=60, interval=0.2)["status"] == "absent"
    actions = [event["action"] for event in olga.clusters.events("acme-dev")]
    # Newest first; "running" and "absent" are the outcomes the backend reported.
    assert actions == ["absent", "destroy", "cancel-destroy", "schedule-destroy", "running", "deploy"]


def test_lists_every_cluster_across_pages(olga: Client) -> None:
    first = olga.clusters.list_page(limit=1)

    assert len(first["items"]) == 1 and first.get("next_token")
    assert sorted(c["name"] for c in olga.clusters.list()) == ["acme-dev", "broken", "demo"]


def test_events_page_through_next_token(alice: Client) -> None:
    alice.clusters.deploy("demo")
    alice.clusters.wait_for_status("demo", "running", timeout=60, interval=0.2)
    alice.clusters.schedule_destroy("demo", in_="3h")
    alice.clusters.schedule_destroy("demo", in_="4h")
    alice.clusters.cancel_destroy("demo")

    page = alice.clusters.events_page("demo", limit=1)
    every = list(alice.clusters.events("demo"))

    assert len(page["items"]) == 1 and page.get("next_token")
    assert every[0] == page["items"][0] and len(every) >= 3


def test_cluster_token_is_a_cluster_jwt_cached_in_the_shared_file(olga: Client, cache_dir) -> None:
    first = olga.cluster_token("demo")
    again = olga.cluster_token("demo")

    assert first == again
    assert claims(first)["sub"] == "github:olga" and claims(first)["aud"] == "demo"
    cache = cache_dir / "cluster-tokens.json"
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600
    assert [entry["token"] for entry in json.loads(cache.read_text()).values()] == [first]


def test_a_cached_cluster_jwt_close_to_expiry_is_issued_again(olga: Client, cache_dir) -> None:
    first = olga.clusters.access("demo")
    cache = cache_dir / "cluster-tokens.json"
    entries = json.loads(cache.read_text())
    for entry in entries.values():
        entry["expires_at"] = "2000-01-01T00:00:00.000Z"  # in the past: never served again
    cache.write_text(json.dumps(entries))

    second = olga.clusters.access("demo")

    assert second["token"] != first["token"]


def test_a_failing_cluster_raises_operation_failed_and_a_slow_one_timeout(olga: Client) -> None:
    olga.clusters.deploy("broken")
    with pytest.raises(ApiError) as failed:
        olga.clusters.wait_for_status("broken", "running", timeout=60, interval=0.2)
    assert failed.value.code == "operation_failed" and failed.value.details["cluster"]["status"] in ("failed", "degraded")

    with pytest.raises(ApiError) as timed_out:
        olga.clusters.wait_for_status("demo", "destroying", timeout=0.3, interval=0.1)
    assert timed_out.value.code == "timeout" and timed_out.value.status == 0


def test_errors_carry_the_apis_status_code_and_details(olga: Client, make_client) -> None:
    with pytest.raises(ApiError) as missing:
        olga.clusters.get("no-such-cluster")
    with pytest.raises(ApiError) as invalid:
        olga.clusters.deploy("demo", nodes=0)
    with pytest.raises(ApiError) as anonymous:
        make_client().clusters.deploy("demo")

    assert (missing.value.status, missing.value.code) == (404, "cluster_not_found")
    assert (invalid.value.status, invalid.value.code) == (400, "invalid_request")
    assert invalid.value.details is not None and invalid.value.request_id
    assert (anonymous.value.status, anonymous.value.code) == (403, "forbidden")
