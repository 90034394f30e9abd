"""Security properties of a deployment: secrets stay secret, data expires, customers can be
pseudonymous, and the template keeps the data private and encrypted.

IAM least privilege per function is tests/integration/test_template_iam.py, and the archive
bucket's privacy is tests/integration/test_template_resources.py; this file adds what they
do not check.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from tests.faults.harness import (
    BRAND,
    TABLE,
    TOKEN,
    FakeX,
    Fault,
    Hooks,
    parse_instant,
    run,
)

ROOT = Path(__file__).resolve().parents[2]
CUSTOMER_HANDLES = ("alice_w", "bobcat", "carol_k", "dave_r")
CUSTOMER_IDS = ("2001", "2002", "2003", "2004")
HASH_KEY = "k" * 16 + "0123456789abcdef-test-only"  # 42 bytes, a test value


# ----------------------------------------------------------------------------- capture


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        # The formatted line with its traceback, and every extra key a logger attached.
        self.lines.append(self.format(record))
        self.lines.append(json.dumps(record.__dict__, default=str))


@pytest.fixture
def all_logs(capfd: pytest.CaptureFixture[str]) -> Iterator[dict[str, Any]]:
    """Every log line: the Powertools JSON stream (stdout in Lambda), the root logger, stdout/stderr.

    The Powertools handler was bound to the stdout of whichever test imported it first, so
    its stream is pointed at a buffer for the test and put back after.
    """
    collect = _Collect()
    powertools_json = io.StringIO()
    root = logging.getLogger()
    service = logging.getLogger("responsegap")
    streams = [h for h in service.handlers if isinstance(h, logging.StreamHandler)]
    previous = [h.stream for h in streams]
    for handler in streams:
        handler.stream = powertools_json  # not setStream: it flushes the old, maybe closed, stream
    old_level = root.level
    root.addHandler(collect)
    root.setLevel(logging.INFO)  # the Lambda runtime's default is WARNING: INFO shows more
    found: dict[str, Any] = {"handler": collect, "json": powertools_json}
    try:
        yield found
    finally:
        root.removeHandler(collect)
        root.setLevel(old_level)
        for handler, stream in zip(streams, previous, strict=True):
            handler.stream = stream


def everything(logs: dict[str, Any], capfd: pytest.CaptureFixture[str]) -> str:
    out, err = capfd.readouterr()
    return "\n".join([out, err, logs["json"].getvalue(), *logs["handler"].lines])


def table_dump(result: Any) -> str:
    """Every item the run wrote (the harness reads them before leaving the mock)."""
    return json.dumps(result.items)


def test_the_token_is_nowhere_after_a_poll_run_and_a_refused_one(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, all_logs: dict[str, Any], capfd
) -> None:
    ok = run(monkeypatch, FakeX())
    refused_platform = FakeX()
    refused_platform.plan = lambda _n, _p, _q: Fault("status", 401, body={"title": "Unauthorized"})
    refused = run(monkeypatch, refused_platform)
    logged = everything(all_logs, capfd)
    assert refused.dead_letters, "the refused run should have failed its messages"
    assert '"level":"ERROR"' in logged.replace(" ", "")  # Powertools JSON lines were captured
    assert "credentials refused" in logged  # the 401 was logged, with its traceback...
    for text in (logged, table_dump(ok), table_dump(refused), json.dumps(ok.figures), *refused.dead_letters):
        assert TOKEN not in text  # ...and the token is nowhere
    assert refused.stack.errors == [] or all(TOKEN not in e for e in refused.stack.errors)
    assert ok.posts and not refused.posts


def test_even_with_every_logger_at_debug_the_token_is_not_logged(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, all_logs: dict[str, Any], capfd
) -> None:
    """LogLevel=DEBUG in the template and the root logger at DEBUG (Lambda ApplicationLogLevel=DEBUG):
    botocore would log the SSM GetParameter response, i.e. the decrypted token, unless its
    loggers are pinned (pipeline/observability.py)."""
    logging.getLogger().setLevel(logging.DEBUG)
    refused_platform = FakeX()
    refused_platform.plan = lambda _n, _p, _q: Fault("status", 401)
    run(monkeypatch, refused_platform)
    logged = everything(all_logs, capfd)
    assert "credentials refused" in logged
    assert '"levelname": "DEBUG"' in logged  # DEBUG records did come through the root logger
    assert TOKEN not in logged


def test_a_platform_echoing_the_token_in_an_error_body_does_not_leak_it(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, all_logs: dict[str, Any], capfd
) -> None:
    echo = FakeX()
    echo.plan = lambda _n, _p, _q: Fault(
        "status", 400, body={"error": "bad request", "echo": {"authorization": f"Bearer {TOKEN}"}}
    )
    result = run(monkeypatch, echo)
    assert result.dead_letters
    assert TOKEN not in everything(all_logs, capfd)
    assert TOKEN not in table_dump(result)


def test_credentials_errors_name_the_parameter_never_the_value(aws_env: None) -> None:
    import boto3
    from moto import mock_aws

    from responsegap.connectors.base import CredentialsError
    from responsegap.connectors.credentials import CredentialStore

    profile = BRAND.profiles[0]
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name="/responsegap/x/acmehelp", Type="SecureString", Value=f"not json {TOKEN}")
        with pytest.raises(CredentialsError) as caught:
            CredentialStore("/responsegap/").get(profile)
    assert "/responsegap/x/acmehelp" in str(caught.value)
    assert TOKEN not in str(caught.value) and caught.value.__cause__ is None


# ----------------------------------------------------------------------------- retention


def test_every_stored_post_expires_retention_days_after_it_was_created(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run(monkeypatch, FakeX())
    assert result.posts
    for item in result.posts.values():
        assert int(item["expires_at"]["N"]) == int(item["created_at"]["N"]) + 90 * 86400
    polls = [i for i in result.items if i["sk"]["S"].startswith("POLL#")]
    assert polls and all(int(i["expires_at"]["N"]) == int(i["started_at"]["N"]) + 90 * 86400 for i in polls)
    ttl = result.ttl
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


# ----------------------------------------------------------------------------- pseudonyms


def _with_privacy(monkeypatch: pytest.MonkeyPatch) -> Hooks:
    """The hook proposed for pipeline.common.make_store: ``return protect(PostStore(...), settings)``."""
    import boto3

    from responsegap import privacy
    from responsegap.config import Settings

    def loaded(poll: Any) -> None:
        boto3.client("ssm", region_name="us-east-1").put_parameter(
            Name="/responsegap/keys/handles", Type="SecureString", Value=HASH_KEY
        )
        settings = Settings.from_env(
            {"TABLE_NAME": TABLE, "HANDLE_HASH_KEY_PARAMETER": "/responsegap/keys/handles"}
        )
        poll.DEPS.store = privacy.protect(poll.DEPS.store, settings)

    return Hooks(on_loaded=loaded)


def test_with_the_keyed_hash_no_customer_handle_is_stored_and_the_figures_do_not_change(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear = run(monkeypatch, FakeX())
    hashed = run(monkeypatch, FakeX(), _with_privacy(monkeypatch))

    stored = table_dump(clear).lower()
    assert all(handle in stored for handle in CUSTOMER_HANDLES)  # the check can fail
    stored = table_dump(hashed).lower()
    for handle in CUSTOMER_HANDLES:
        assert handle not in stored
    values = set(re.findall(r'"S": "([^"]*)"', table_dump(hashed)))
    assert not values & set(CUSTOMER_IDS)
    assert "acmehelp" in stored  # the brand stays recognisable
    assert hashed.figures == clear.figures
    assert sorted(hashed.posts) == sorted(clear.posts)
    assert {k: v.get("status") for k, v in hashed.posts.items()} == {
        k: v.get("status") for k, v in clear.posts.items()
    }


def test_pseudonyms_are_stable_keyed_and_idempotent() -> None:
    from responsegap.domain.model import ConfigError
    from responsegap.privacy import HandleHasher, Pseudonymiser

    hasher = HandleHasher(HASH_KEY)
    assert hasher("alice_w") == hasher("alice_w") != HandleHasher(HASH_KEY + "x")("alice_w")
    assert re.fullmatch(r"h_[0-9a-f]{24}", hasher("alice_w"))
    assert hasher(hasher("alice_w")) == hasher("alice_w")
    assert HASH_KEY not in repr(hasher)
    with pytest.raises(ConfigError):
        HandleHasher("short")

    from responsegap.domain.model import Post

    reply = Post(
        "x",
        "9",
        "1000",
        "acmehelp",
        1,
        "@Alice_W @acmehelp see https://x.com/alice_w/status/1",
        in_reply_to_id="1",
        in_reply_to_author_id="2001",
        mentions=("alice_w", "acmehelp"),
        url="https://x.com/alice_w/status/9",
    )
    out = Pseudonymiser(hasher).post(reply, BRAND)
    alias = hasher("alice_w")
    assert out.author_handle == "acmehelp" and out.author_id == "1000"
    assert out.mentions == (alias, "acmehelp")
    assert out.text.startswith(f"@{alias} @acmehelp")
    assert out.in_reply_to_author_id == hasher("2001")
    assert out.url == f"https://x.com/{alias}/status/9"


def test_a_missing_or_short_hash_key_fails_clearly_without_quoting_it(aws_env: None) -> None:
    import boto3
    from moto import mock_aws

    from responsegap.domain.model import ConfigError
    from responsegap.privacy import load_hasher

    with mock_aws():
        with pytest.raises(ConfigError, match="could not be read"):
            load_hasher("/responsegap/keys/absent")
        boto3.client("ssm", region_name="us-east-1").put_parameter(
            Name="/responsegap/keys/short", Type="SecureString", Value="tiny-secret"
        )
        with pytest.raises(ConfigError) as caught:
            load_hasher("/responsegap/keys/short")
    assert "tiny-secret" not in str(caught.value)


# ----------------------------------------------------------------------------- template


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))


def test_table_has_pitr_ttl_and_encryption(template: dict[str, Any]) -> None:
    table = template["Resources"]["Table"]["Properties"]
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True


def test_every_queue_is_encrypted(template: dict[str, Any]) -> None:
    queues = {n: r["Properties"] for n, r in template["Resources"].items() if r["Type"] == "AWS::SQS::Queue"}
    assert len(queues) >= 4
    for name, queue in queues.items():
        assert queue.get("SqsManagedSseEnabled") is True or queue.get("KmsMasterKeyId"), name


_SECRETISH = re.compile(r"token|secret|password|passwd|api[_-]?key|credential|private", re.IGNORECASE)
_SECRET_VALUE = re.compile(r"(?:AKIA|ASIA)[0-9A-Z]{16}|xox[abp]-|EAA[A-Za-z0-9]{20,}|Bearer\s+\S+|-----BEGIN")


def test_no_secret_in_parameter_defaults_or_environment(template: dict[str, Any]) -> None:
    for name, parameter in template.get("Parameters", {}).items():
        default = str(parameter.get("Default", ""))
        assert not _SECRET_VALUE.search(default), name
        if _SECRETISH.search(name) and parameter.get("Type") == "String":
            # A name or path of where credentials live is fine; a value is not.
            assert default == "" or default.endswith("/") or parameter.get("NoEcho"), name
    environments = [template.get("Globals", {}).get("Function", {}).get("Environment", {})]
    environments += [
        r["Properties"].get("Environment", {})
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    ]
    for environment in environments:
        for variable, value in environment.get("Variables", {}).items():
            assert not _SECRET_VALUE.search(json.dumps(value)), variable
            if _SECRETISH.search(variable):
                # Secret-ish variables may only carry a location (a !Ref'd path), never a literal value.
                assert not isinstance(value, str) or value.startswith("/") or value == "", variable


def test_scheduled_run_attempt_and_time_come_from_the_template_only() -> None:
    """A forged scheduler event with a non-ISO time is refused, not guessed."""
    from responsegap.pipeline.events import BadMessage, ScheduledRun

    with pytest.raises(BadMessage):
        ScheduledRun.from_event({"scheduled_time": "yesterday; drop table"})
    assert ScheduledRun.from_event(
        {"scheduled_time": "2026-11-23T10:00:00Z"}
    ).scheduled_time == parse_instant("2026-11-23T10:00:00Z")
