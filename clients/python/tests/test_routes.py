"""The SDK's copy of the route table matches the server's (its OpenAPI document)."""
from __future__ import annotations

import json
import urllib.request
from typing import Any, Dict, get_args

from provisioner import types
from provisioner.routes import ROUTES


def test_every_route_the_sdk_calls_is_the_servers_operation_with_its_method_and_path(api) -> None:
    with urllib.request.urlopen(api.url + "/v1/openapi.json") as response:
        document = json.load(response)
    served = {
        operation["operationId"]: (method.upper(), path)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if isinstance(operation, dict) and "operationId" in operation
    }

    assert {name: served.get(name) for name in ROUTES} == ROUTES
    # Every operation of the API is reachable by name, except what only the console uses.
    assert set(served) - set(ROUTES) <= {"openapi", "openid-configuration", "login-device", "login-device-token"}


def response_schema(document: Dict[str, Any], operation: str) -> Dict[str, Any]:
    for methods in document["paths"].values():
        for entry in methods.values():
            if entry.get("operationId") == operation:
                success = next(entry["responses"][status] for status in ("200", "201", "202") if status in entry["responses"])
                return success["content"]["application/json"]["schema"]
    raise KeyError(operation)


def test_every_typed_answer_has_the_fields_of_the_servers_response_schema(api) -> None:
    with urllib.request.urlopen(api.url + "/v1/openapi.json") as response:
        document = json.load(response)
    schema = lambda operation: response_schema(document, operation)  # noqa: E731
    typed = {
        types.Cluster: schema("get-cluster"),
        types.ClusterToken: schema("access"),
        types.Identity: schema("whoami"),
        types.LoginResult: schema("login"),
        types.ClusterEvent: schema("cluster-events")["properties"]["items"]["items"],
        types.Workspace: schema("workspace-get"),
        types.WorkspaceExpired: schema("workspace-expired"),
        types.WorkspaceEvent: schema("workspace-events")["properties"]["items"]["items"],
        types.Workbench: schema("workbench-get"),
        types.Run: schema("get-run"),
        types.RunStep: schema("get-run")["properties"]["steps"]["items"],
        types.Page: schema("list-clusters"),
    }

    for typed_dict, served in typed.items():
        required = set(served.get("required", []))
        assert (typed_dict.__name__, set(typed_dict.__required_keys__)) == (typed_dict.__name__, required)
        assert (typed_dict.__name__, set(typed_dict.__optional_keys__)) == (typed_dict.__name__, set(served["properties"]) - required)

    statuses = {
        types.ClusterStatus: schema("get-cluster")["properties"]["status"],
        types.WorkspaceStatus: schema("workspace-get")["properties"]["status"],
        types.WorkbenchStatus: schema("workbench-get")["properties"]["status"],
        types.RunStatus: schema("get-run")["properties"]["status"],
        types.RunKind: schema("get-run")["properties"]["kind"],
        types.Level: schema("whoami")["properties"]["level"],
    }
    for literal, served in statuses.items():
        assert set(get_args(literal)) == set(served["enum"])
