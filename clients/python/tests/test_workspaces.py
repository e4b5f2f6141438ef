"""Workspaces end to end: create with versions and values, wait, move the expiry, events, delete."""
from __future__ import annotations

import pytest

from provisioner import ApiError, Client


def test_a_workspace_from_creation_to_deletion(olga: Client) -> None:
    created = olga.workspaces.create(name="olga-py", expiry="36h", values={"pachd.logLevel": "debug"})
    wid = created["id"]
    try:
        assert created["status"] == "creating" and created["name"] == "olga-py"
        ready = olga.workspaces.wait_until_ready(wid, timeout=60, interval=0.2)
        assert ready["status"] == "ready" and ready["endpoints"]

        assert olga.workspaces.expired(wid) == {"expired": False, "expires_at": ready["expires_at"]}
        moved = olga.workspaces.update(wid, expiry="5d")
        assert moved["expires_at"] != ready["expires_at"]
        assert wid in [ws["id"] for ws in olga.workspaces.list()]
        assert olga.workspaces.list_page(limit=1)["items"]
    finally:
        deleting = olga.workspaces.delete(wid)
    assert deleting["status"] in ("deleting", "deleted")
    actions = [event["action"] for event in olga.workspaces.events(wid)]
    assert actions[-1] == "create" and {"ready", "extend", "delete"} <= set(actions)


def test_bad_input_is_the_apis_400_naming_the_field(olga: Client) -> None:
    with pytest.raises(ApiError) as refused:
        olga.workspaces.create(name="Not A DNS Label")

    assert (refused.value.status, refused.value.code) == (400, "invalid_request")
