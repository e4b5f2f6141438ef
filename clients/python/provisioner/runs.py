"""``client.runs``: TEST and RELEASE runs, their logs as they grow, and the wait for their end."""
from __future__ import annotations

import codecs
import time
import urllib.error
import urllib.request
from typing import Callable, Iterator, Optional

from .call import Call, Progress, every_item, page_query, poll
from .errors import ApiError
from .types import Page, Run, RunKind, RunStatus

FINAL_STATUSES = frozenset({"passed", "failed", "timed_out", "cancelled"})


def run_ended(run: Run) -> bool:
    """Whether a run has ended (passed, failed, timed out or cancelled)."""
    return run["status"] in FINAL_STATUSES


class Runs:
    """Runs of the catalog's test and release plans (administrators)."""

    def __init__(self, call: Call, timeout: float) -> None:
        self._call = call
        self._timeout = timeout

    def test(self, cluster: str, version: str) -> Run:
        """TEST: runs the catalog's test plan at the git ref ``version`` against the (running) cluster."""
        return self._call("test-runner", body={"version": version}, cluster=cluster)

    def release(self, cluster: str, version: str) -> Run:
        """RELEASE: runs the catalog's release plan of the cluster at the git ref ``version``."""
        return self._call("release", body={"version": version}, cluster=cluster)

    def get(self, id: str) -> Run:
        return self._call("get-run", id=id)

    def list_page(
        self,
        limit: Optional[int] = None,
        next_token: Optional[str] = None,
        cluster: Optional[str] = None,
        kind: Optional[RunKind] = None,
        status: Optional[RunStatus] = None,
    ) -> Page:
        """One page, newest first; the filters apply within a page, so a page may be short and still
        have a next one."""
        return self._call("list-runs", query=page_query(limit, next_token, cluster=cluster, kind=kind, status=status))

    def list(self, cluster: Optional[str] = None, kind: Optional[RunKind] = None, status: Optional[RunStatus] = None) -> Iterator[Run]:
        """Every run matching the filters, newest first, across pages."""
        return every_item(lambda limit, token: self.list_page(limit, token, cluster, kind, status))

    def cancel(self, id: str) -> Run:
        """Cancels a run that has not ended (409 ``run_finished`` once it has)."""
        return self._call("cancel-run", id=id)

    def log(self, id: str) -> str:
        """The run's log so far (uploaded every 30 s and after each step); empty while it has none."""
        run = self.get(id)
        return self._log_bytes(id, run["log_url"], 0).decode("utf-8", "replace") if run["log_url"] else ""

    def wait(self, id: str, timeout: float = 7200.0, progress: Optional[Progress] = None, interval: float = 2.0) -> Run:
        """Polls until the run ends and returns it however it ended (see ``status``, ``failed_step``);
        raises ApiError ``timeout`` only when the time runs out."""
        return self._poll(id, timeout, interval, progress, lambda run: None)

    def follow_log(
        self,
        id: str,
        on_text: Callable[[str], None] = lambda text: print(text, end="", flush=True),
        timeout: float = 7200.0,
        interval: float = 2.0,
    ) -> Run:
        """Hands the log to ``on_text`` as it grows, only the new part each time, until the run ends;
        returns the run. A UTF-8 character split across two reads waits for its end."""
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        state = {"offset": 0, "failures": 0}

        def each(run: Run) -> None:
            if not run["log_url"]:
                return
            while True:
                try:
                    data = self._log_bytes(id, run["log_url"], state["offset"])
                    state["failures"] = 0
                    break
                except ApiError as error:
                    # The log is re-uploaded while the run goes: a failed read is tried at the next
                    # poll, or at once when the run has ended (its end is still to come). Refused
                    # (4xx), or three times in a row, it is the caller's to see.
                    state["failures"] += 1
                    if 0 < error.status < 500 or state["failures"] >= 3:
                        raise
                    if not run_ended(run):
                        return
                    time.sleep(min(interval, 1.0))
            state["offset"] += len(data)
            text = decoder.decode(data, final=run_ended(run))
            if text:
                on_text(text)

        return self._poll(id, timeout, interval, None, each)

    def _poll(self, id: str, timeout: float, interval: float, progress: Optional[Progress], each: Callable[[Run], None]) -> Run:
        def settled(run: Run, _elapsed: float) -> bool:
            each(run)
            return run_ended(run)

        def timed_out(run: Run, elapsed: float) -> ApiError:
            return ApiError(0, "timeout", f"Run {id} is still {run['status']} after {round(elapsed)} s.", {"run": run})

        return poll(lambda: self.get(id), settled, timeout, interval, progress, timed_out)

    def _log_bytes(self, id: str, url: str, offset: int) -> bytes:
        """The log's bytes from ``offset`` on, through its presigned link: a Range request, as the log
        is one object that only grows. None yet (404) or nothing new (416) is empty."""
        headers = {"range": f"bytes={offset}-"} if offset > 0 else {}
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=self._timeout) as response:
                data = response.read()
                # A server that ignores Range answers 200 with the whole log.
                return data if response.status == 206 else data[offset:]
        except urllib.error.HTTPError as answer:
            if answer.code in (404, 416):
                return b""
            raise ApiError(answer.code, "log_unavailable", f"The log of run {id} could not be read (HTTP {answer.code}).") from None
        except (urllib.error.URLError, OSError) as failure:
            raise ApiError(0, "unreachable", f"The log of run {id} could not be read: {failure}.") from None
