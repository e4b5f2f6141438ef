"""The API's answers as TypedDicts: the JSON the API sends, typed for editors and mypy.

They mirror the response schemas of src/api/schemas.ts; values stay plain dicts, so a field the
API adds later is still there for callers who need it before the SDK names it.
"""
from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, TypedDict

ClusterStatus = Literal["absent", "deploying", "running", "degraded", "destroying", "failed"]
WorkspaceStatus = Literal["creating", "ready", "failed", "deleting", "deleted"]
WorkbenchStatus = Literal["absent", "provisioning", "pending_instance", "pending", "running", "stopping", "stopped", "failed", "deleted"]
RunStatus = Literal["queued", "running", "passed", "failed", "timed_out", "cancelled"]
RunKind = Literal["test", "release"]
Level = Literal["anonymous", "github_member", "org_member", "administrator"]

class _Identity(TypedDict):
    login: Optional[str]
    level: Level
    orgs: List[str]


class Identity(_Identity, total=False):
    # A session from an API token (PROVISIONER_API_TOKEN): what it is limited to.
    scopes: List[str]
    clusters: List[str]


class LoginResult(TypedDict):
    token: str
    token_type: Literal["Bearer"]
    expires_at: str
    user: Identity


class ClusterToken(TypedDict):
    token: str
    expires_at: str
    cluster: str


class Cluster(TypedDict):
    name: str
    visibility: Literal["public", "private"]
    status: ClusterStatus
    nodes: int
    version: Optional[str]
    deployed_by: Optional[str]
    destroy_at: Optional[str]
    deadline: Optional[str]
    endpoints: List[str]
    reason: Optional[str]
    updated_at: Optional[str]


# `from` is a Python keyword: the functional syntax can name it (read it as event["from"]).
_ClusterEvent = TypedDict(
    "_ClusterEvent",
    {"time": str, "actor": str, "action": str, "from": ClusterStatus, "to": ClusterStatus, "request_id": str},
)


class ClusterEvent(_ClusterEvent, total=False):
    details: Dict[str, Any]


class Workspace(TypedDict):
    id: str
    name: str
    owner: Optional[str]
    status: WorkspaceStatus
    created_at: Optional[str]
    expires_at: Optional[str]
    expires_in: Optional[float]
    versions: Dict[str, str]
    endpoints: Dict[str, str]
    reason: Optional[str]
    updated_at: Optional[str]


class WorkspaceExpired(TypedDict):
    expired: bool
    expires_at: Optional[str]


_WorkspaceEvent = TypedDict(
    "_WorkspaceEvent",
    {"time": str, "actor": str, "action": str, "from": WorkspaceStatus, "to": WorkspaceStatus, "request_id": str},
)


class WorkspaceEvent(_WorkspaceEvent, total=False):
    details: Dict[str, Any]


class Workbench(TypedDict):
    id: str
    name: str
    owner: str  # the subject, github:<login>
    owner_login: str  # deprecated: the login, what owner held before; read owner
    status: WorkbenchStatus
    cpu: int
    memory: int
    gpu: int
    dedicated_instance: bool
    capacity_provider: str
    endpoint: Optional[str]
    stops_at: Optional[str]
    shares: List[str]
    shared: bool
    reason: Optional[str]
    created_at: Optional[str]
    updated_at: Optional[str]


class _RunStep(TypedDict):
    name: str
    status: Literal["passed", "failed", "skipped"]
    seconds: float


class RunStep(_RunStep, total=False):
    exit_code: int


class Run(TypedDict):
    id: str
    kind: RunKind
    cluster: str
    version: str
    plan: Optional[str]
    status: RunStatus
    created_by: Optional[str]
    created_at: Optional[str]
    deadline: Optional[str]
    finished_at: Optional[str]
    steps: List[RunStep]
    failed_step: Optional[str]
    reason: Optional[str]
    log_url: Optional[str]
    updated_at: Optional[str]


class _Page(TypedDict):
    items: List[Any]


class Page(_Page, total=False):
    """One page of a list; ``next_token`` is absent on the last page."""

    next_token: str
