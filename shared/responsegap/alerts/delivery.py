"""Delivering a digest to one target, with retries; reports what happened, never the URL.

- ``sns``: ``Publish`` to the stack's alert topic, ``MessageStructure=json`` (email gets the
  digest, SMS a count), with a ``brand`` message attribute so a subscription can filter on it.
- ``slack``: slack_sdk's ``WebhookClient`` with Block Kit built by slack_sdk's models (which
  check Slack's size limits before anything is sent); success is HTTP 200 with body ``ok``.
- ``teams`` (a Workflows webhook) and ``webhook`` (generic JSON): ``requests``; any 2xx is
  success (Workflows answers 202), redirects are not followed.

Webhook URLs are secrets (whoever has one can post to the channel): they are read from SSM
SecureStrings under ``{CREDENTIALS_PATH}alerts/``, checked (https to a public host; Slack and
Teams only to their own hosts), and never logged or put in an error message. A failed
attempt is retried (connection errors, timeouts, 429 and 5xx; Retry-After honoured up to a
few seconds); a 4xx other than 429 is not retried within the run. Whatever fails is left
for the next run: the caller marks nothing for a target that was not told.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from responsegap.alerts import render
from responsegap.alerts.digest import DeliveryOutcome, Digest
from responsegap.config import _is_private_host
from responsegap.domain.alerts import AlertTarget

SLACK_HOSTS = ("hooks.slack.com", "hooks.slack-gov.com")
TEAMS_HOST_SUFFIXES = (".logic.azure.com", ".powerplatform.com", ".powerautomate.com")
USER_AGENT = "responsegap-alerts/1"
MAX_RETRY_AFTER = 5.0


class TargetError(Exception):
    """A target that cannot be delivered to as configured (bad or unreadable URL)."""


class _Transient(Exception):
    def __init__(self, detail: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.detail, self.status, self.retry_after = detail, status, retry_after


class _Permanent(Exception):
    def __init__(self, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.detail, self.status = detail, status


def check_webhook_url(kind: str, url: str, *, allow_local: bool = False) -> str:
    """The URL if a ``kind`` target may post to it; TargetError (without the URL) otherwise."""
    url = url.strip()
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host or any(c.isspace() for c in url):
        raise TargetError(f"the {kind} webhook URL is not a URL")
    if parts.username or parts.password:
        raise TargetError(f"the {kind} webhook URL carries credentials in its authority part")
    if allow_local and _is_private_host(host) and parts.scheme in ("http", "https"):
        return url
    if parts.scheme != "https":
        raise TargetError(f"the {kind} webhook URL must use https")
    if _is_private_host(host):
        raise TargetError(f"the {kind} webhook URL points at a private or loopback address")
    if kind == "slack" and host not in SLACK_HOSTS:
        raise TargetError("a slack target must be a Slack incoming-webhook URL (hooks.slack.com)")
    if kind == "teams" and not host.endswith(TEAMS_HOST_SUFFIXES):
        raise TargetError(
            "a teams target must be a Teams Workflows webhook URL (logic.azure.com / powerplatform.com)"
        )
    return url


class WebhookUrls:
    """Target URLs from SSM SecureStrings, cached ``max_age`` seconds (Powertools Parameters)."""

    def __init__(
        self, parameters_path: str, *, max_age: int = 300, allow_local: bool = False, ssm: Any = None
    ) -> None:
        self.prefix = f"{parameters_path}alerts/"
        self.max_age = max_age
        self.allow_local = allow_local
        self._ssm = ssm

    def url_for(self, target: AlertTarget) -> str:
        name = target.url_parameter
        if not name.startswith(self.prefix) or ".." in name:
            raise TargetError(f"target {target.name}: its parameter is not under {self.prefix!r}")
        from aws_lambda_powertools.utilities.parameters import SSMProvider
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        if self._ssm is None:
            self._ssm = SSMProvider()
        try:
            value = self._ssm.get(name, max_age=self.max_age, decrypt=True)
        except GetParameterError:
            raise TargetError(f"target {target.name}: parameter {name!r} could not be read") from None
        return check_webhook_url(target.kind, str(value), allow_local=self.allow_local)


class Deliverer:
    def __init__(
        self,
        *,
        urls: WebhookUrls,
        sns: Any = None,
        topic_arn: str = "",
        session: Any = None,
        attempts: int = 3,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        backoff_base: float = 0.5,
    ) -> None:
        self.urls = urls
        self._sns = sns
        self.topic_arn = topic_arn
        self._session = session
        self.attempts = max(1, attempts)
        self.timeout = timeout
        self.sleep = sleep
        self.backoff_base = backoff_base
        self._random = random.Random()  # noqa: S311 - jitter, not security

    @property
    def sns(self) -> Any:
        if self._sns is None:
            import boto3

            self._sns = boto3.client("sns")
        return self._sns

    @property
    def session(self) -> Any:
        if self._session is None:
            import requests

            self._session = requests.Session()
        return self._session

    def deliver(self, target: AlertTarget, digest: Digest) -> DeliveryOutcome:
        outcome = DeliveryOutcome(target=target.name, kind=target.kind, ok=False)
        try:
            send = self._sender(target)
        except TargetError as error:
            outcome.detail = str(error)
            return outcome
        for attempt in range(1, self.attempts + 1):
            outcome.attempts = attempt
            try:
                outcome.status, outcome.payload_bytes = send(digest)
            except _Permanent as failure:
                outcome.detail, outcome.status = failure.detail, failure.status
                return outcome
            except _Transient as failure:
                outcome.detail, outcome.status = failure.detail, failure.status
                if attempt == self.attempts:
                    return outcome
                wait = failure.retry_after
                if wait is None or wait > MAX_RETRY_AFTER:
                    wait = self._random.uniform(0, self.backoff_base * 2**attempt)
                self.sleep(wait)
                continue
            outcome.ok, outcome.detail = True, "delivered"
            return outcome
        return outcome

    def _sender(self, target: AlertTarget) -> Callable[[Digest], tuple[int | None, int]]:
        if target.kind == "sns":
            if not self.topic_arn:
                raise TargetError("no alert topic: ALERT_TOPIC_ARN is not set")
            return self._send_sns
        url = self.urls.url_for(target)
        if target.kind == "slack":
            return lambda digest: self._send_slack(url, digest)
        payload: Callable[[Digest], dict[str, Any]] = (
            render.teams_payload if target.kind == "teams" else render.webhook_payload
        )
        return lambda digest: self._send_json(url, payload(digest), digest)

    # ------------------------------------------------------------------ senders
    def _send_sns(self, digest: Digest) -> tuple[int | None, int]:
        from botocore.exceptions import BotoCoreError, ClientError

        message = render.sns_message(digest)
        try:
            self.sns.publish(
                TopicArn=self.topic_arn,
                Subject=render.sns_subject(digest),
                Message=message,
                MessageStructure="json",
                MessageAttributes={
                    "brand": {"DataType": "String", "StringValue": digest.brand_id},
                    "kind": {"DataType": "String", "StringValue": "sample" if digest.sample else "digest"},
                },
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if (
                code in ("Throttling", "ThrottlingException", "InternalError", "KMSThrottling")
                or (status or 0) >= 500
            ):
                raise _Transient(f"SNS {code}", status) from None
            raise _Permanent(f"SNS {code}", status) from None
        except BotoCoreError as error:
            raise _Transient(f"SNS {type(error).__name__}") from None
        return 200, len(message.encode("utf-8"))

    def _send_slack(self, url: str, digest: Digest) -> tuple[int | None, int]:
        from slack_sdk.errors import SlackObjectFormationError
        from slack_sdk.webhook import WebhookClient

        try:
            text, blocks = render.slack_payload(digest)
            payload = [b.to_dict() for b in blocks]  # validates Slack's limits
        except SlackObjectFormationError as error:
            raise _Permanent(f"Slack message invalid: {type(error).__name__}") from None
        client = WebhookClient(url, timeout=int(self.timeout), user_agent_prefix=USER_AGENT)
        try:
            response = client.send(text=text, blocks=payload, unfurl_links=False, unfurl_media=False)
        except OSError as error:  # URLError, timeouts, refused connections
            raise _Transient(f"Slack {type(error).__name__}") from None
        size = len(json.dumps({"text": text, "blocks": payload}).encode("utf-8"))
        status, body = response.status_code, str(response.body or "")
        if status == 200 and body.strip() == "ok":
            return status, size
        reason = body.strip()[:60] if body.strip().replace("_", "").isalnum() else ""
        detail = f"Slack HTTP {status}" + (f" {reason}" if reason else "")
        if status == 429 or status >= 500:
            raise _Transient(detail, status, _retry_after(response.headers))
        raise _Permanent(detail, status)

    def _send_json(self, url: str, payload: dict[str, Any], digest: Digest) -> tuple[int | None, int]:
        import requests

        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
        if digest.digest_id:
            headers["X-Responsegap-Digest"] = digest.digest_id  # lets a receiver drop a retried copy
        try:
            response = self.session.post(
                url, data=data, headers=headers, timeout=self.timeout, allow_redirects=False
            )
        except requests.RequestException as error:
            raise _Transient(f"HTTP {type(error).__name__}") from None
        status = response.status_code
        if 200 <= status < 300:
            return status, len(data)
        detail = f"HTTP {status}"
        if status == 429 or status >= 500:
            raise _Transient(detail, status, _retry_after(response.headers))
        raise _Permanent(detail, status)


def _retry_after(headers: Any) -> float | None:
    try:
        raw = (headers or {}).get("Retry-After") or (headers or {}).get("retry-after")
        if isinstance(raw, list):
            raw = raw[0] if raw else None
        return max(0.0, float(raw)) if raw is not None else None
    except (TypeError, ValueError):
        return None
