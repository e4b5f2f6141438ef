"""Retries, Retry-After and errors, against a tiny local server that answers what each test scripts."""
from __future__ import annotations

from typing import List

import pytest

from provisioner import ApiError
from provisioner.call import Call
from provisioner.session import Session
from conftest import Answer, Scripted, free_port

def unavailable(retry_after: str) -> Answer:
    return (503, {"retry-after": retry_after}, {"error": {"code": "dependency_unavailable", "message": "try again"}})


def test_503_with_retry_after_then_200_waits_as_told_and_answers(scripted: Scripted) -> None:
    scripted.answers = [unavailable("1"), (200, {}, {"name": "demo"})]

    answer = Session(scripted.url, retries=3, timeout=5).request("GET", "/v1/clusters/demo")

    assert answer == {"name": "demo"}
    assert len(scripted.seen) == 2
    assert scripted.seen[1][2] - scripted.seen[0][2] >= 0.95


def test_429_is_retried_and_retry_after_is_bounded(scripted: Scripted) -> None:
    waits: List[float] = []
    scripted.answers = [(429, {"retry-after": "3600"}, {"error": {"code": "rate_limited", "message": "slow down"}}), (200, {}, {})]

    Session(scripted.url, retries=1, timeout=5, sleep=waits.append).request("GET", "/v1/whoami")

    assert waits == [60.0]


def test_gives_up_after_the_configured_retries_with_the_apis_error(scripted: Scripted) -> None:
    scripted.answers = [unavailable("0")] * 3

    with pytest.raises(ApiError) as raised:
        Session(scripted.url, retries=2, timeout=5).request("POST", "/v1/clusters/demo/deploy", body={})

    assert (raised.value.status, raised.value.code, str(raised.value)) == (503, "dependency_unavailable", "try again")
    assert len(scripted.seen) == 3


def test_other_4xx_are_not_retried(scripted: Scripted) -> None:
    scripted.answers = [(409, {"x-request-id": "req-1"}, {"error": {"code": "conflict", "message": "busy", "details": {"status": "deploying"}}})]

    with pytest.raises(ApiError) as raised:
        Session(scripted.url, retries=3, timeout=5).request("POST", "/v1/clusters/demo/destroy")

    assert (raised.value.status, raised.value.code, raised.value.details, raised.value.request_id) == (409, "conflict", {"status": "deploying"}, "req-1")
    assert len(scripted.seen) == 1


def test_network_errors_are_retried_then_reported_as_unreachable() -> None:
    waits: List[float] = []
    session = Session(f"http://127.0.0.1:{free_port()}", retries=2, timeout=1, sleep=waits.append, retry_base=0.1)

    with pytest.raises(ApiError) as raised:
        session.request("GET", "/v1/health")

    assert (raised.value.status, raised.value.code) == (0, "unreachable")
    # Exponential backoff with jitter: base·2^n to 2·base·2^n.
    assert len(waits) == 2 and 0.1 <= waits[0] <= 0.2 and 0.2 <= waits[1] <= 0.4


def test_a_server_that_does_not_answer_in_time_is_a_timeout_after_the_retries(scripted: Scripted) -> None:
    scripted.delay = 1.0

    with pytest.raises(ApiError) as raised:
        Session(scripted.url, retries=1, timeout=0.2, retry_base=0.01).request("GET", "/v1/clusters")

    assert (raised.value.status, raised.value.code, str(raised.value)) == (0, "timeout", "GET /v1/clusters: no answer within 0.2 s.")
    assert len(scripted.seen) == 2


def test_an_answer_without_the_apis_error_shape_still_has_a_code(scripted: Scripted) -> None:
    scripted.answers = [(502, {}, {"message": "Bad Gateway"})]

    with pytest.raises(ApiError) as raised:
        Session(scripted.url, retries=0, timeout=5).request("GET", "/v1/health")

    assert (raised.value.status, raised.value.code) == (502, "http_502")


def test_a_refused_user_jwt_is_renewed_once_and_the_request_sent_again(scripted: Scripted) -> None:
    refused: List[object] = []

    def token(rejected: object) -> str:
        refused.append(rejected)
        return "fresh" if rejected else "stale"

    scripted.answers = [(401, {}, {"error": {"code": "invalid_token", "message": "unknown key"}}), (200, {}, {"login": "olga"})]

    answer = Session(scripted.url, retries=0, timeout=5, token=token).request("GET", "/v1/whoami")

    assert answer == {"login": "olga"}
    assert refused == [None, "stale"]
    assert [seen[3] for seen in scripted.seen] == ["Bearer stale", "Bearer fresh"]


def test_path_parameters_are_url_encoded_and_required(scripted: Scripted) -> None:
    call = Call(Session(scripted.url, retries=0, timeout=5))

    call("cancel-destroy", cluster="a b/c?")
    with pytest.raises(ValueError, match="needs cluster="):
        call("get-cluster")
    with pytest.raises(ValueError, match='unknown operation "deploy-cluster"'):
        call("deploy-cluster")

    assert [(seen[0], seen[1]) for seen in scripted.seen] == [("DELETE", "/v1/clusters/a%20b%2Fc%3F/destroy-schedule")]


def test_the_user_jwt_goes_to_every_route_but_the_public_ones_and_login(scripted: Scripted) -> None:
    call = Call(Session(scripted.url, retries=0, timeout=5, token=lambda _refused: "user-jwt"))

    call("whoami")
    call("health")
    call("login", body={"github_token": "gh"})

    assert [(seen[1], seen[3]) for seen in scripted.seen] == [("/v1/whoami", "Bearer user-jwt"), ("/v1/health", ""), ("/v1/login", '{"github_token": "gh"}')]
