"""Workbenches end to end: create, wait, share, stop, start, list, delete."""
from __future__ import annotations

import pytest

from provisioner import ApiError, Client


def test_a_workbench_from_creation_to_deletion(olga: Client, alice: Client) -> None:
    created = olga.workbenches.create("notebook", cpu=256, memory=512)
    wid = created["id"]
    try:
        statuses = []
        ready = olga.workbenches.wait_for_status(wid, "running", timeout=60, interval=0.2, progress=lambda wb, _s: statuses.append(wb["status"]))
        assert (ready["owner"], ready["owner_login"]) == ("github:olga", "olga") and (ready["cpu"], ready["memory"]) == (256, 512)
        assert statuses[-1] == "running"

        assert olga.workbenches.share(wid, "alice")["shares"] == ["alice"]
        assert olga.workbenches.unshare(wid, "alice")["shares"] == []

        olga.workbenches.stop(wid)
        assert olga.workbenches.wait_for_status(wid, "stopped", timeout=60, interval=0.2)["status"] == "stopped"
        olga.workbenches.start(wid)
        assert olga.workbenches.wait_for_status(wid, "running", timeout=60, interval=0.2)["status"] == "running"

        assert wid in [wb["id"] for wb in olga.workbenches.list()]
        assert wid in [wb["id"] for wb in alice.workbenches.list(owner="olga")]
    finally:
        olga.workbenches.delete(wid)
    with pytest.raises(ApiError) as gone:
        olga.workbenches.wait_for_status(wid, "running", timeout=0.5, interval=0.2)
    assert gone.value.code in ("timeout", "workbench_not_found")


def test_a_workbench_too_large_is_refused_before_anything_starts(olga: Client) -> None:
    with pytest.raises(ApiError) as refused:
        olga.workbenches.create("huge", cpu=196_608, memory=1_572_864)

    assert 400 <= refused.value.status < 500
