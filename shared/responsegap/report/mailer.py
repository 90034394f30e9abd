"""Sending the report through SES v2 as a raw MIME message (attachments need the Raw form)."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

import boto3


class MessageTooLarge(ValueError):
    """A raw message SES v2 would refuse (over 40 MB); the weekly report never builds one."""


class SesMailer:
    """SES v2 ``SendEmail`` with ``Content.Raw``.

    The client, and the MIME helpers (which bring the templates' jinja2), are made on the
    first send, not when the Lambda starts: a report job that idempotency replays, the
    common case of a redelivered message, never sends and never needs them.
    """

    def __init__(self, client: Any = None, *, configuration_set: str | None = None) -> None:
        self._client = client
        self._configuration_set = configuration_set

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("sesv2")
        return self._client

    def send(self, message: EmailMessage, sender: str, recipients: Sequence[str]) -> str:
        """Send ``message`` to ``recipients``; returns the SES MessageId.

        The envelope addresses are checked again here: the message may come from anywhere.
        """
        from responsegap.report.artefacts import SES_MAX_MESSAGE_BYTES
        from responsegap.report.mime import parse_address, parse_recipients

        source = parse_address(sender)
        to = [a.addr_spec for a in parse_recipients(recipients)]
        raw = message.as_bytes(policy=SMTP)
        if len(raw) > SES_MAX_MESSAGE_BYTES:
            raise MessageTooLarge(
                f"message is {len(raw):,} bytes; SES accepts at most {SES_MAX_MESSAGE_BYTES:,}"
            )
        request: dict[str, Any] = {
            "FromEmailAddress": source.addr_spec,
            "Destination": {"ToAddresses": to},
            "Content": {"Raw": {"Data": raw}},
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        response = self.client.send_email(**request)
        return str(response["MessageId"])
