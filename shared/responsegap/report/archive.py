"""Keeping every sent report in S3 (encrypted at rest), one folder per brand and week."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Mapping
from typing import Any

import boto3

from responsegap.domain.periods import parse_iso_week

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_BRAND = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_TYPES = {
    ".eml": "message/rfc822",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
}


class ReportArchive:
    def __init__(
        self, bucket: str, client: Any = None, *, prefix: str = "reports", kms_key_id: str | None = None
    ) -> None:
        if not bucket:
            raise ValueError("an archive needs a bucket name")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        # Made on the first put: a replayed report job and the leaders' roll-up never archive.
        self._client = client
        self._kms_key_id = kms_key_id

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("s3")
        return self._client

    def key(self, brand_id: str, week: str, name: str) -> str:
        # Names come from our own code, but a key is a path: refuse anything that could climb out.
        if not _BRAND.match(brand_id) or brand_id in (".", ".."):
            raise ValueError(f"bad brand id {brand_id!r}")
        parse_iso_week(week)
        if not _NAME.match(name) or ".." in name:
            raise ValueError(f"bad file name {name!r}")
        return f"{self.prefix}/{brand_id}/{week}/{name}"

    def put(self, brand_id: str, week: str, files: Mapping[str, bytes | str]) -> list[str]:
        """Store each file under ``reports/{brand}/{week}/{name}``; a re-run overwrites the same keys."""
        keys = []
        for name, body in files.items():
            key = self.key(brand_id, week, name)
            extension = name[name.rfind(".") :] if "." in name else ""
            content_type = (
                _TYPES.get(extension) or mimetypes.guess_type(name)[0] or "application/octet-stream"
            )
            extra: dict[str, str] = {"ServerSideEncryption": "AES256"}
            if self._kms_key_id:
                extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self._kms_key_id}
            data = body.encode("utf-8") if isinstance(body, str) else body
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, **extra)
            keys.append(key)
        return keys
