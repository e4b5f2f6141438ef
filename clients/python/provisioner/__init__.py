"""The Provisioner SDK: clusters, cluster JWTs, runs, workbenches and workspaces from Python.

>>> from provisioner import Client
>>> client = Client.from_config()          # the same config and login as the `provisioner` CLI
>>> client.clusters.deploy("acme-dev", nodes=2)
>>> client.clusters.wait_for_status("acme-dev", "running", timeout=600)
>>> token = client.cluster_token("acme-dev")  # cached until shortly before it expires
"""
from .client import Auth, Client
from .config import Config, load_config
from .errors import ApiError, ConfigError
from .runs import FINAL_STATUSES, run_ended
from .types import (
    Cluster,
    ClusterEvent,
    ClusterStatus,
    ClusterToken,
    Identity,
    LoginResult,
    Page,
    Run,
    RunKind,
    RunStatus,
    RunStep,
    Workbench,
    WorkbenchStatus,
    Workspace,
    WorkspaceEvent,
    WorkspaceExpired,
    WorkspaceStatus,
)

__all__ = [
    "ApiError",
    "Auth",
    "Client",
    "Cluster",
    "ClusterEvent",
    "ClusterStatus",
    "ClusterToken",
    "Config",
    "ConfigError",
    "FINAL_STATUSES",
    "Identity",
    "LoginResult",
    "Page",
    "Run",
    "RunKind",
    "RunStatus",
    "RunStep",
    "Workbench",
    "WorkbenchStatus",
    "Workspace",
    "WorkspaceEvent",
    "WorkspaceExpired",
    "WorkspaceStatus",
    "load_config",
    "run_ended",
]
