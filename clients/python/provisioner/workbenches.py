"""``client.workbenches``: personal workbenches, their start/stop, shares and the wait for a status."""
from __future__ import annotations

from typing import Iterator, Optional

from .call import Call, Progress, every_item, page_query, poll
from .errors import ApiError
from .types import Page, Workbench, WorkbenchStatus


class Workbenches:
    def __init__(self, call: Call) -> None:
        self._call = call

    def list_page(self, limit: Optional[int] = None, next_token: Optional[str] = None, owner: Optional[str] = None) -> Page:
        return self._call("workbench-list", query=page_query(limit, next_token, owner=owner))

    def list(self, owner: Optional[str] = None) -> Iterator[Workbench]:
        """Your workbenches (administrators: ``owner`` for someone else's), across pages."""
        return every_item(lambda limit, token: self.list_page(limit, token, owner))

    def create(self, name: str, cpu: int, memory: int, gpu: Optional[int] = None, dedicated_instance: Optional[bool] = None) -> Workbench:
        """Creates and starts a workbench; ``cpu`` in units (1024 = 1 vCPU), ``memory`` in MiB."""
        body = {"name": name, "cpu": cpu, "memory": memory, "gpu": gpu, "dedicated_instance": dedicated_instance}
        return self._call("workbench-create", body={k: v for k, v in body.items() if v is not None})

    def get(self, id: str) -> Workbench:
        return self._call("workbench-get", id=id)

    def start(self, id: str) -> Workbench:
        return self._call("workbench-start", id=id)

    def stop(self, id: str) -> Workbench:
        return self._call("workbench-stop", id=id)

    def delete(self, id: str) -> Workbench:
        return self._call("workbench-delete", id=id)

    def share(self, id: str, login: str) -> Workbench:
        """Lets another GitHub login see, start and stop the workbench (owner only)."""
        return self._call("workbench-share", id=id, login=login)

    def unshare(self, id: str, login: str) -> Workbench:
        return self._call("workbench-unshare", id=id, login=login)

    def wait_for_status(
        self, id: str, status: WorkbenchStatus, timeout: float = 600.0, progress: Optional[Progress] = None, interval: float = 2.0
    ) -> Workbench:
        """Polls until the workbench is ``status``; ApiError ``operation_failed`` when it fails,
        ``timeout`` when time runs out."""

        def settled(workbench: Workbench, _elapsed: float) -> bool:
            if workbench["status"] == "failed" and status != "failed":
                raise ApiError(0, "operation_failed", f"{id} failed: {workbench.get('reason') or 'no reason given'}.", {"workbench": workbench})
            return workbench["status"] == status

        def timed_out(workbench: Workbench, elapsed: float) -> ApiError:
            return ApiError(0, "timeout", f"{id} is still {workbench['status']} after {round(elapsed)} s.", {"workbench": workbench})

        return poll(lambda: self.get(id), settled, timeout, interval, progress, timed_out)
