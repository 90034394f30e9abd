"""The one failure policy every connector shares (429, 5xx, timeouts, refused credentials)."""

from __future__ import annotations

import pytest
import requests
import responses

from responsegap.connectors.base import CredentialsError, MalformedPayload, PlatformUnavailable, RateLimited
from responsegap.connectors.http import PlatformHttp, retry_at_from_headers

URL = "https://api.example.test/2/things"
NOW = 1_800_000_000


def http(**kw) -> PlatformHttp:
    sleeps: list[float] = []
    client = PlatformHttp("x#acmehelp", sleep=sleeps.append, clock=lambda: NOW, **kw)
    client.sleeps = sleeps  # type: ignore[attr-defined]
    return client


@responses.activate
def test_429_with_retry_after_gives_retry_time_and_no_retry():
    responses.get(URL, status=429, headers={"Retry-After": "120"})
    client = http()
    with pytest.raises(RateLimited) as error:
        client.get_json(URL)
    assert error.value.retry_at == NOW + 120
    assert len(responses.calls) == 1


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-rate-limit-reset": str(NOW + 900)}, NOW + 900),  # X: epoch seconds
        ({"X-Ratelimit-Reset": "30"}, NOW + 30),  # Reddit: seconds to wait
        ({"X-RateLimit-Reset": "2027-01-15T08:00:30.000Z"}, 1_800_000_030),  # Mastodon: ISO time
        ({"Retry-After": "Fri, 15 Jan 2027 08:01:00 GMT"}, 1_800_000_060),  # HTTP date
        ({"Retry-After": "garbage"}, NOW + 60),  # unreadable: a default wait, never zero
        ({}, NOW + 60),
    ],
)
def test_reset_headers_of_each_platform(headers, expected):
    assert retry_at_from_headers(headers, NOW) == expected


@responses.activate
def test_5xx_then_success_is_retried_with_backoff():
    responses.get(URL, status=503)
    responses.get(URL, status=500)
    responses.get(URL, json={"ok": True})
    client = http()
    assert client.get_json(URL) == {"ok": True}
    assert client.requests_made == 3
    assert len(client.sleeps) == 2 and all(s >= 0 for s in client.sleeps)


@responses.activate
def test_timeouts_persisting_become_platform_unavailable():
    responses.get(URL, body=requests.Timeout("read timed out"))
    client = http(max_attempts=3)
    with pytest.raises(PlatformUnavailable) as error:
        client.get_json(URL)
    assert "after 3 attempts" in str(error.value)
    assert len(responses.calls) == 3


@responses.activate
def test_refused_credentials_name_the_profile_not_the_token():
    token = "AAAA-secret-bearer-token"
    responses.get(URL, status=401, json={"title": "Unauthorized"})
    with pytest.raises(CredentialsError) as error:
        http().get_json(URL, headers={"Authorization": f"Bearer {token}"})
    assert "x#acmehelp" in str(error.value)
    assert token not in str(error.value)


@responses.activate
def test_403_with_exhausted_limit_is_a_rate_limit_not_a_credentials_error():
    exhausted = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(NOW + 60)}
    responses.get(URL, status=403, headers=exhausted)
    with pytest.raises(RateLimited):
        http().get_json(URL)


@responses.activate
def test_non_json_body_is_malformed_and_query_string_is_not_echoed():
    responses.get(URL, body="<html>oops</html>", status=200)
    with pytest.raises(MalformedPayload) as error:
        http().get_json(URL + "?key=SECRETKEY")
    assert "SECRETKEY" not in str(error.value)
    assert "did not return JSON" in str(error.value)


@responses.activate
def test_error_body_echoing_the_credentials_is_quoted_without_them():
    token = "sekret-bearer-token-123456"
    responses.get(URL, status=400, json={"error": f"bad request with Authorization: Bearer {token}"})
    responses.post(URL, status=200, body=f"not json but echoes {token} and pw hunter22-long")
    with pytest.raises(MalformedPayload) as error:
        http().get_json(URL, headers={"Authorization": f"Bearer {token}"})
    assert token not in str(error.value) and "[redacted]" in str(error.value)
    with pytest.raises(MalformedPayload) as error:
        http().post_json(URL, data={"password": "hunter22-long", "api_token": token})
    assert token not in str(error.value) and "hunter22-long" not in str(error.value)
