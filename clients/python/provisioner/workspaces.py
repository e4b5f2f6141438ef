"""``client.workspaces``: workspaces that delete themselves at their expiry."""
from __future__ import annotations

from typing import Dict, Iterator, Optional, Union

from .call import Call, Progress, every_item, page_query, poll
from .errors import ApiError
from .types import Page, Workspace, WorkspaceEvent, WorkspaceExpired

Value = Union[str, int, float, bool]


class Workspaces:
    def __init__(self, call: Call) -> None:
        self._call = call

    def create(
        self,
        name: Optional[str] = None,
        expiry: Optional[str] = None,
        versions: Optional[Dict[str, str]] = None,
        values: Optional[Dict[str, Value]] = None,
    ) -> Workspace:
        """Creates a workspace (``creating`` until ``wait_until_ready``). ``expiry`` is a duration
        (``"36h"``) or an ISO time; ``versions`` pins components, ``values`` overrides the template's."""
        body = {"name": name, "expiry": expiry, "versions": versions, "values": values}
        return self._call("workspace-create", body={k: v for k, v in body.items() if v is not None})

    def get(self, id: str) -> Workspace:
        return self._call("workspace-get", id=id)

    def list_page(self, limit: Optional[int] = None, next_token: Optional[str] = None) -> Page:
        return self._call("workspace-list", query=page_query(limit, next_token))

    def list(self) -> Iterator[Workspace]:
        """Your workspaces (an administrator's: everyone's), across pages."""
        return every_item(self.list_page)

    def update(self, id: str, expiry: str) -> Workspace:
        """Moves the expiry: a duration from now (``"5d"``) or an ISO time, within the catalog's limit."""
        return self._call("workspace-update", body={"expiry": expiry}, id=id)

    def delete(self, id: str) -> Workspace:
        return self._call("workspace-delete", id=id)

    def expired(self, id: str) -> WorkspaceExpired:
        return self._call("workspace-expired", id=id)

    def events_page(self, id: str, limit: Optional[int] = None, next_token: Optional[str] = None) -> Page:
        return self._call("workspace-events", query=page_query(limit, next_token), id=id)

    def events(self, id: str) -> Iterator[WorkspaceEvent]:
        """The workspace's audit trail, newest first, across pages."""
        return every_item(lambda limit, token: self.events_page(id, limit, token))

    def wait_until_ready(self, id: str, timeout: float = 600.0, progress: Optional[Progress] = None, interval: float = 2.0) -> Workspace:
        """Polls until the workspace is ready; ApiError ``operation_failed`` when it fails or is
        deleted meanwhile, ``timeout`` when time runs out."""

        def settled(workspace: Workspace, _elapsed: float) -> bool:
            if workspace["status"] not in ("ready", "creating"):
                raise ApiError(0, "operation_failed", f"{workspace['name']} is {workspace['status']}: {workspace.get('reason') or 'no reason given'}.", {"workspace": workspace})
            return workspace["status"] == "ready"

        def timed_out(workspace: Workspace, elapsed: float) -> ApiError:
            return ApiError(0, "timeout", f"{workspace['name']} is still creating after {round(elapsed)} s.", {"workspace": workspace})

        return poll(lambda: self.get(id), settled, timeout, interval, progress, timed_out)
