"""The SDK's copy of the route table matches the server's (its OpenAPI document)."""
from __future__ import annotations

import json
import urllib.request

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
