"""The API's operations the SDK calls: name to method and path, as in src/api/routes.ts.

The TypeScript client reads that table at run time; Python cannot, so this copy is checked against
the server's ``/v1/openapi.json`` (operationId, method, path) by tests/test_routes.py.
"""
from __future__ import annotations

from typing import Dict, Tuple

ROUTES: Dict[str, Tuple[str, str]] = {
    "health": ("GET", "/v1/health"),
    "login": ("POST", "/v1/login"),
    "whoami": ("GET", "/v1/whoami"),
    "access": ("POST", "/v1/clusters/{cluster}/access"),
    "jwks": ("GET", "/.well-known/jwks.json"),
    "list-clusters": ("GET", "/v1/clusters"),
    "get-cluster": ("GET", "/v1/clusters/{cluster}"),
    "deploy": ("POST", "/v1/clusters/{cluster}/deploy"),
    "schedule-destroy": ("PUT", "/v1/clusters/{cluster}/destroy-schedule"),
    "cancel-destroy": ("DELETE", "/v1/clusters/{cluster}/destroy-schedule"),
    "destroy": ("POST", "/v1/clusters/{cluster}/destroy"),
    "cluster-events": ("GET", "/v1/clusters/{cluster}/events"),
    "workspace-create": ("POST", "/v1/workspaces"),
    "workspace-list": ("GET", "/v1/workspaces"),
    "workspace-get": ("GET", "/v1/workspaces/{id}"),
    "workspace-expired": ("GET", "/v1/workspaces/{id}/expired"),
    "workspace-update": ("PATCH", "/v1/workspaces/{id}"),
    "workspace-delete": ("DELETE", "/v1/workspaces/{id}"),
    "workspace-events": ("GET", "/v1/workspaces/{id}/events"),
    "workbench-list": ("GET", "/v1/workbenches"),
    "workbench-create": ("POST", "/v1/workbenches"),
    "workbench-get": ("GET", "/v1/workbenches/{id}"),
    "workbench-start": ("POST", "/v1/workbenches/{id}/start"),
    "workbench-stop": ("POST", "/v1/workbenches/{id}/stop"),
    "workbench-share": ("PUT", "/v1/workbenches/{id}/shares/{login}"),
    "workbench-unshare": ("DELETE", "/v1/workbenches/{id}/shares/{login}"),
    "workbench-delete": ("DELETE", "/v1/workbenches/{id}"),
    "test-runner": ("POST", "/v1/clusters/{cluster}/tests"),
    "release": ("POST", "/v1/clusters/{cluster}/releases"),
    "get-run": ("GET", "/v1/runs/{id}"),
    "list-runs": ("GET", "/v1/runs"),
    "cancel-run": ("POST", "/v1/runs/{id}/cancel"),
    "token-create": ("POST", "/v1/tokens"),
    "token-list": ("GET", "/v1/tokens"),
    "token-revoke": ("DELETE", "/v1/tokens/{token_id}"),
    "logout": ("POST", "/v1/logout"),
    "admin-overview": ("GET", "/v1/admin/overview"),
    "admin-release-slot": ("POST", "/v1/admin/clusters/{cluster}/release-slot"),
    "admin-force-absent": ("POST", "/v1/admin/clusters/{cluster}/force-absent"),
}

# Public routes need no user JWT, and login must not ask for one: getting it may mean logging in.
WITHOUT_USER_TOKEN = frozenset({"health", "jwks", "login"})
