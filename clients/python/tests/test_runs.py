"""TEST and RELEASE runs end to end: the log followed as it grows, the wait, the list, cancel."""
from __future__ import annotations

from typing import List

import pytest

from provisioner import ApiError, Client, run_ended


def running(client: Client, cluster: str) -> None:
    client.clusters.deploy(cluster)
    client.clusters.wait_for_status(cluster, "running", timeout=60, interval=0.2)


def test_a_test_run_is_followed_to_its_end_with_its_log(alice: Client) -> None:
    running(alice, "demo")
    pieces: List[str] = []

    started = alice.runs.test("demo", "main")
    finished = alice.runs.follow_log(started["id"], on_text=pieces.append, timeout=120, interval=0.3)

    assert started["kind"] == "test" and started["status"] in ("queued", "running")
    assert finished["status"] == "passed", finished
    assert [step["name"] for step in finished["steps"]] == ["clone", "cluster-check", "selftests"]
    assert "testing against" in "".join(pieces)
    assert "".join(pieces) == alice.runs.log(started["id"])
    assert alice.runs.wait(started["id"], timeout=5)["status"] == "passed"


def test_a_release_is_listed_cancelled_and_filtered(alice: Client) -> None:
    started = alice.runs.release("demo", "v1.0")
    assert started["id"] in [run["id"] for run in alice.runs.list(kind="release")]
    assert started["id"] not in [run["id"] for run in alice.runs.list(kind="test")]
    assert alice.runs.list_page(limit=1)["items"][0]["id"] == started["id"]

    alice.runs.cancel(started["id"])
    ended = alice.runs.wait(started["id"], timeout=60, interval=0.3)

    assert ended["status"] == "cancelled" and run_ended(ended)
    with pytest.raises(ApiError) as again:
        alice.runs.cancel(started["id"])
    assert (again.value.status, again.value.code) == (409, "run_finished")


def test_runs_are_for_administrators(olga: Client) -> None:
    with pytest.raises(ApiError) as refused:
        list(olga.runs.list())

    assert refused.value.status == 403
