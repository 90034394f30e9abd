"""The Lambda functions of template.yaml, run in this process with the events AWS would send.

``Functions`` loads each ``functions/<name>/app.py`` by path (as the Lambda runtime does:
the module runs its cold start, reading ``Settings`` from the environment) and invokes
``lambda_handler`` with:

- EventBridge Scheduler events: the ``Input`` of the function's ``ScheduleV2`` event in the
  template, with Scheduler's context placeholders (``<aws.scheduler.scheduled-time>``...)
  filled in, exactly as Scheduler delivers them;
- SQS batches: messages received from the embedded queue and turned into ``Records`` with the
  fields Lambda's event source mapping sets (messageId, receiptHandle, body, attributes,
  md5OfBody, eventSourceARN...), up to the template's ``BatchSize``. Like the event source
  mapping, successes are deleted and the ``batchItemFailures`` the handler reports stay on
  the queue (made visible again at once, so the demo retries them on its next drain; after
  ``maxReceiveCount`` receives SQS moves them to the dead-letter queue).

The one local liberty: every dependency that reads a clock (``deps.clock``, the store's
clock, the platform HTTP client's clock) is pointed at the demo's simulated clock, so "now"
is the same for the pipeline, the queues' messages and the platform server.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from infra.local.clock import iso_z
from infra.local.embedded_aws import ACCOUNT, REGION, EmbeddedAws

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS = REPO / "functions"
# Logical id in template.yaml -> folder in functions/
FOLDERS = {
    "DispatchFunction": "dispatch",
    "PollFunction": "poll",
    "RecheckFunction": "recheck",
    "ReportDispatchFunction": "report_dispatch",
    "ReportFunction": "report",
    "AlertFunction": "alert",
}


@dataclass
class LambdaContext:
    """The attributes Powertools and handlers read from Lambda's context object."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 60
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_seconds * 1000


@dataclass
class QueueDrain:
    """What one drain of a queue did."""

    invocations: int = 0
    records: int = 0
    failed: int = 0
    results: list[Any] = field(default_factory=list)


class Functions:
    """The template's functions, loaded once (one warm container each)."""

    def __init__(
        self, aws: EmbeddedAws, clock: Callable[[], float], log_stream: TextIO | None = None
    ) -> None:
        self.aws = aws
        self.clock = clock
        self.log_stream = log_stream
        self.modules: dict[str, ModuleType] = {}
        self.sqs = aws.client("sqs")
        self.resources: dict[str, Any] = aws.template.get("Resources", {})
        self.globals: dict[str, Any] = aws.template.get("Globals", {}).get("Function", {})
        for logical, folder in FOLDERS.items():
            if logical in self.resources:
                self.modules[folder] = self._load(folder)
        if log_stream is not None:
            route_logs(log_stream)

    # loading
    def _load(self, folder: str) -> ModuleType:
        path = FUNCTIONS / folder / "app.py"
        name = f"responsegap_function_{folder}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)  # the cold start: Settings.from_env(), DEPS
        self._use_clock(getattr(module, "DEPS", None))
        return module

    def _use_clock(self, deps: Any) -> None:
        """Point every clock of a function's dependencies at the simulated one (see module doc)."""
        if deps is None:
            return
        clock = self.clock
        if hasattr(deps, "clock"):
            object.__setattr__(deps, "clock", clock)  # some deps are frozen dataclasses
        for name in ("store",):
            inner = getattr(deps, name, None)
            if inner is not None and hasattr(inner, "clock"):
                inner.clock = clock
        build = getattr(deps, "connector_for", None)
        if build is not None:

            def with_clock(profile: Any, _build: Callable[[Any], Any] = build) -> Any:
                connector = _build(profile)
                http = getattr(connector, "http", None)
                if http is not None:
                    # Rate-limit reset headers are compared with "now": the simulated one.
                    http.clock = clock
                return connector

            object.__setattr__(deps, "connector_for", with_clock)

    def _properties(self, logical: str) -> dict[str, Any]:
        return self.resources[logical].get("Properties", {})

    def context(self, logical: str) -> LambdaContext:
        props = self._properties(logical)
        return LambdaContext(
            function_name=f"responsegap-local-{FOLDERS[logical]}",
            memory_limit_in_mb=int(props.get("MemorySize", self.globals.get("MemorySize", 512))),
            timeout_seconds=int(props.get("Timeout", self.globals.get("Timeout", 60))),
        )

    def invoke(self, logical: str, event: Mapping[str, Any]) -> Any:
        module = self.modules[FOLDERS[logical]]
        if self.log_stream is None:
            return module.lambda_handler(dict(event), self.context(logical))
        # What a function prints (Powertools' metrics as EMF lines) goes where Lambda would
        # send it, the log, not over the demo's progress.
        with contextlib.redirect_stdout(self.log_stream):
            return module.lambda_handler(dict(event), self.context(logical))

    # EventBridge Scheduler
    def scheduler_event(self, logical: str, scheduled_time: int, attempt: int = 1) -> dict[str, Any]:
        """The ``Input`` of the function's ScheduleV2 event with Scheduler's placeholders filled."""
        for spec in self._properties(logical).get("Events", {}).values():
            if spec.get("Type") in ("ScheduleV2", "Schedule"):
                raw = spec.get("Properties", {}).get("Input", "{}")
                text = (
                    raw.replace("<aws.scheduler.scheduled-time>", iso_z(scheduled_time))
                    .replace("<aws.scheduler.execution-id>", str(uuid.uuid4()))
                    .replace("<aws.scheduler.attempt-number>", str(attempt))
                    .replace(
                        "<aws.scheduler.schedule-arn>",
                        f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/{logical}",
                    )
                )
                return json.loads(text)
        raise KeyError(f"{logical} has no schedule in template.yaml")

    def run_scheduled(self, logical: str, scheduled_time: int) -> Any:
        return self.invoke(logical, self.scheduler_event(logical, scheduled_time))

    # SQS event source mapping
    def _sqs_source(self, logical: str) -> tuple[str, str, int]:
        """(queue logical id, queue URL, batch size) of the function's SQS trigger.

        Either a SAM ``Events: {Type: SQS}`` on the function or an
        ``AWS::Lambda::EventSourceMapping`` resource whose ``FunctionName`` is ``!Ref`` it.
        """
        sources: list[tuple[Any, Any]] = []
        for spec in self._properties(logical).get("Events", {}).values():
            if spec.get("Type") == "SQS":
                props = spec.get("Properties", {})
                sources.append((props.get("Queue"), props.get("BatchSize", 10)))
        for spec in self.resources.values():
            props = spec.get("Properties", {})
            if spec.get("Type") == "AWS::Lambda::EventSourceMapping" and props.get("FunctionName") == {
                "Ref": logical
            }:
                sources.append((props.get("EventSourceArn"), props.get("BatchSize", 10)))
        for queue, batch_size in sources:
            target = queue.get("Fn::GetAtt", [""])[0] if isinstance(queue, dict) else str(queue)
            if target in self.aws.physical:
                return target, self.aws.physical[target], int(batch_size)
        raise KeyError(f"{logical} has no SQS trigger in template.yaml")

    def drain(self, logical: str, *, max_batches: int = 1000) -> QueueDrain:
        """Deliver what is visible on the function's queue, batch by batch, until it is empty."""
        queue, url, batch_size = self._sqs_source(logical)
        arn = self.aws.arns[queue]
        summary = QueueDrain()
        for _ in range(max_batches):
            messages = self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(batch_size, 10),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not messages:
                break
            event = {"Records": [_record(m, arn) for m in messages]}
            summary.invocations += 1
            summary.records += len(messages)
            try:
                result = self.invoke(logical, event)
            except Exception:
                # A handler that raises fails the whole batch: everything stays on the queue.
                logging.getLogger(__name__).exception("%s failed a whole batch", logical)
                result = {"batchItemFailures": [{"itemIdentifier": m["MessageId"]} for m in messages]}
            summary.results.append(result)
            failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
            summary.failed += len(failed)
            done = [m for m in messages if m["MessageId"] not in failed]
            for chunk in _chunks(done, 10):
                self.sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)
                    ],
                )
            for message in messages:
                if message["MessageId"] in failed:
                    self.sqs.change_message_visibility(
                        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
            if failed:
                break  # retried on the next drain, as after a visibility timeout
        return summary

    def pending(self, logical: str) -> dict[str, int]:
        """Visible, in-flight and delayed messages on the function's queue."""
        _, url, _ = self._sqs_source(logical)
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return {
            "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
            "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            "delayed": int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
        }


def _record(message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as Lambda's event source mapping hands it to the function."""
    attributes = dict(message.get("Attributes", {}))
    attributes.setdefault("ApproximateReceiveCount", "1")
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value.get("DataType", "String"),
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def route_logs(stream: TextIO) -> None:
    """Send the functions' Powertools JSON logs to ``stream`` (the demo keeps its terminal for progress)."""
    for name in ("responsegap", "aws_lambda_powertools"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(stream)
