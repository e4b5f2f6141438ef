"""The documented uses: the device-flow login, and a requests.Session sending cluster JWTs."""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import List, Tuple
from urllib.parse import parse_qs

import requests

from provisioner import Client
from conftest import ALICE, Scripted


def test_the_device_flow_shows_the_code_and_logs_in_with_the_token_github_issues(make_client, scripted: Scripted, cache_dir: Path) -> None:
    scripted.answers = [
        (200, {}, {"device_code": "device-1", "user_code": "WDJB-MJHT", "verification_uri": "https://github.example/login/device", "expires_in": 60, "interval": 0}),
        (200, {}, {"error": "authorization_pending"}),
        (200, {}, {"access_token": ALICE, "token_type": "bearer"}),
    ]
    shown: List[Tuple[str, str]] = []
    client = make_client(PROVISIONER_GITHUB_URL=scripted.url, PROVISIONER_CLIENT_ID="Iv1.test")

    result = client.auth.login_with_device_flow(lambda uri, code: shown.append((uri, code)))

    assert shown == [("https://github.example/login/device", "WDJB-MJHT")]
    assert result["user"]["login"] == "alice"
    assert json.loads((cache_dir / "credentials.json").read_text())["token"] == result["token"]
    forms = [parse_qs(seen[3]) for seen in scripted.seen]
    assert [seen[1] for seen in scripted.seen] == ["/login/device/code", "/login/oauth/access_token", "/login/oauth/access_token"]
    assert forms[0] == {"client_id": ["Iv1.test"], "scope": ["read:org"]}
    assert forms[2]["device_code"] == ["device-1"]


def test_a_requests_session_hook_sends_a_cached_cluster_jwt_with_every_request(alice: Client, scripted: Scripted) -> None:
    # The recipe of docs/python.md, as written there.
    session = requests.Session()

    def attach_cluster_token(request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {alice.cluster_token('demo')}"
        return request

    session.auth = attach_cluster_token
    session.get(scripted.url + "/source/version")
    session.get(scripted.url + "/source/health")

    sent = [seen[3] for seen in scripted.seen]
    assert sent[0] == sent[1] and sent[0].startswith("Bearer ")
    payload = sent[0].split(".")[1]
    assert json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["aud"] == "demo"
