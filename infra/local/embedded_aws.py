"""An AWS account on loopback: moto's server in this process, provisioned from template.yaml.

Nothing here describes a resource by hand. The table is created by
``responsegap.store.schema.create_table`` (which reads the ``Table`` resource), queues,
their dead-letter queues, the bucket, SSM parameters and the SES identity come from the
``Properties`` of the template's resources, and the handlers' environment is the
template's own ``Environment.Variables`` with ``!Ref``/``!GetAtt``/``!Sub`` resolved to the
local names. Change the template and the demo follows.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import requests
import yaml

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account
STACK = "responsegap-local"
DEFAULT_SENDER = "reports@responsegap.local"


# --- template.yaml, with its CloudFormation short forms --------------------------------


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that turns ``!Ref X`` into ``{"Ref": "X"}`` and ``!Sub`` into ``{"Fn::Sub": ...}``."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


# --- the running account ----------------------------------------------------------------


@dataclass
class EmbeddedAws:
    """What was provisioned, and how to reach it."""

    endpoint: str
    port: int
    template: dict[str, Any]
    parameters: dict[str, str] = field(default_factory=dict)  # template parameter overrides
    physical: dict[str, str] = field(default_factory=dict)  # logical id -> name / URL
    arns: dict[str, str] = field(default_factory=dict)  # logical id -> ARN
    environment: dict[str, str] = field(default_factory=dict)  # what the handlers read

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION)

    def resource_of_type(self, cfn_type: str) -> list[str]:
        resources = self.template.get("Resources", {})
        return [name for name, spec in resources.items() if spec.get("Type") == cfn_type]

    def put_secure_parameter(self, name: str, value: str | Mapping[str, Any]) -> None:
        """A SecureString, as platform credentials are stored in a real account."""
        text = value if isinstance(value, str) else json.dumps(value)
        self.client("ssm").put_parameter(Name=name, Value=text, Type="SecureString", Overwrite=True)

    def sent_emails(self) -> list[dict[str, Any]]:
        """Every email SES accepted: moto keeps them and shows them under /moto-api/data.json.

        moto 5 lists raw sends under ``ses.RawMessage`` (``raw_data`` is the whole MIME
        text) and formatted sends under ``ses.Message``; SES v2 ``send_email`` with a Raw
        content lands in ``RawMessage`` too.
        """
        data = requests.get(f"{self.endpoint}/moto-api/data.json", timeout=10).json()
        ses = data.get("ses", {})
        return list(ses.get("RawMessage", [])) + list(ses.get("Message", []))

    def published(self, logical: str) -> list[dict[str, Any]]:
        """What was published to the topic ``logical``, as each protocol's subscriber gets it.

        moto keeps every ``Publish`` of a topic (``Topic.sent_notifications``, shown under
        /moto-api/data.json): message id, message, subject, attributes. A
        ``MessageStructure=json`` message is a JSON object per protocol (``email``, ``sms``,
        ``default``), as SNS delivers it.
        """
        arn = self.physical[logical]
        data = requests.get(f"{self.endpoint}/moto-api/data.json", timeout=10).json()
        out = []
        for topic in data.get("sns", {}).get("Topic", []):
            if topic.get("arn") != arn:
                continue
            for message_id, message, subject, attributes, _group in topic.get("sent_notifications", []):
                try:
                    parts = json.loads(message)
                except ValueError:
                    parts = {"default": message}
                out.append({"message_id": message_id, "subject": subject, "attributes": attributes, **parts})
        return out

    def subscriptions(self, logical: str) -> list[dict[str, Any]]:
        response = self.client("sns").list_subscriptions_by_topic(TopicArn=self.physical[logical])
        return list(response.get("Subscriptions", []))


def free_port() -> int:
    """A free loopback port. The server binds port 0 itself; this is for callers that need one first."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def embedded_aws(
    template_path: Path = TEMPLATE,
    *,
    sender: str = DEFAULT_SENDER,
    parameters: Mapping[str, str] | None = None,
    extra_env: Mapping[str, str] | None = None,
    set_environ: bool = True,
) -> Iterator[EmbeddedAws]:
    """Start moto on a free loopback port, provision the template, yield, always stop.

    ``set_environ`` writes the handlers' environment into ``os.environ`` for the duration
    (restoring it after), since the handlers read their settings from there as in Lambda.
    ``parameters`` are the template parameters a ``sam deploy`` would be given
    (``SenderEmail``, ``LogLevel``...); the others take their defaults.
    """
    # moto must not reach for real credentials, and the werkzeug request log would drown
    # the demo's own progress lines.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    saved = dict(os.environ)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        base_env = _aws_env(endpoint)
        os.environ.update(base_env)  # boto3 clients below need the dummy credentials too
        aws = EmbeddedAws(
            endpoint=endpoint,
            port=port,
            template=load_template(template_path),
            parameters={"SenderEmail": sender, **dict(parameters or {})},
        )
        _provision(aws, template_path, sender)
        aws.environment = {**base_env, **_function_environment(aws, sender), **dict(extra_env or {})}
        if set_environ:
            os.environ.update(aws.environment)
        else:
            _restore(saved)
        yield aws
    finally:
        _restore(saved)
        _stop(server)


def _stop(server: Any) -> None:
    """Stop serving *and* close the listening socket (moto's ``stop`` leaves it bound)."""
    with contextlib.suppress(Exception):
        server.stop()
    inner = getattr(server, "_server", None)
    if inner is not None:
        with contextlib.suppress(Exception):
            inner.server_close()


def _restore(saved: Mapping[str, str]) -> None:
    for key in list(os.environ):
        if key not in saved:
            del os.environ[key]
    os.environ.update(saved)


def _aws_env(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        # Never read ~/.aws of the person running the demo.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": "responsegap-local",
        # Powertools: quiet logs, no X-Ray daemon, metrics printed nowhere.
        "POWERTOOLS_SERVICE_NAME": "responsegap",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "responsegap",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }


# --- provisioning from the template -----------------------------------------------------


def _provision(aws: EmbeddedAws, template_path: Path, sender: str) -> None:
    resources: dict[str, Any] = aws.template.get("Resources", {})
    for name in aws.resource_of_type("AWS::DynamoDB::Table"):
        _create_table(aws, name, resources[name], template_path)
    # Dead-letter queues first: a queue's RedrivePolicy names its DLQ's ARN.
    queues = aws.resource_of_type("AWS::SQS::Queue")
    for name in sorted(queues, key=lambda n: _redrive_target(resources[n]) is not None):
        _create_queue(aws, name, resources[name])
    for name in aws.resource_of_type("AWS::S3::Bucket"):
        _create_bucket(aws, name, resources[name])
    for name in aws.resource_of_type("AWS::SSM::Parameter"):
        props = resources[name].get("Properties", {})
        param = str(_resolve(aws, props.get("Name", f"/{STACK}/{name}")))
        aws.client("ssm").put_parameter(
            Name=param, Value=str(_resolve(aws, props.get("Value", ""))), Type=props.get("Type", "String")
        )
        aws.physical[name] = param
    _create_topics(aws, resources)
    identities = aws.resource_of_type("AWS::SES::EmailIdentity")
    for name in identities:
        identity = str(_resolve(aws, resources[name].get("Properties", {}).get("EmailIdentity", sender)))
        # A domain identity covers every sender at it, so the sender is verified as well.
        _verify(aws, identity)
        aws.physical[name] = identity
    _verify(aws, sender)


def _create_topics(aws: EmbeddedAws, resources: dict[str, Any]) -> None:
    """SNS topics, and the subscriptions whose endpoint resolves to something (a parameter left
    empty is a condition that is false in a real deploy)."""
    sns = aws.client("sns")
    for name in aws.resource_of_type("AWS::SNS::Topic"):
        props = resources[name].get("Properties", {})
        topic = str(_resolve(aws, props.get("TopicName", f"{STACK}-{name}")))
        arn = sns.create_topic(Name=topic)["TopicArn"]
        aws.physical[name] = arn
        aws.arns[name] = arn
    for name in aws.resource_of_type("AWS::SNS::Subscription"):
        props = resources[name].get("Properties", {})
        endpoint = str(_resolve(aws, props.get("Endpoint", "")) or "")
        if endpoint:
            sns.subscribe(
                TopicArn=str(_resolve(aws, props["TopicArn"])), Protocol=props["Protocol"], Endpoint=endpoint
            )


def _verify(aws: EmbeddedAws, identity: str) -> None:
    ses = aws.client("ses")
    if "@" in identity:
        ses.verify_email_identity(EmailAddress=identity)
    else:
        ses.verify_domain_identity(Domain=identity)
    with contextlib.suppress(Exception):  # SES v2 keeps its own list in moto
        aws.client("sesv2").create_email_identity(EmailIdentity=identity)


def _create_table(aws: EmbeddedAws, logical: str, spec: Mapping[str, Any], template_path: Path) -> None:
    props = spec.get("Properties", {})
    name = str(_resolve(aws, props.get("TableName", f"{STACK}-{logical}")))
    client = aws.client("dynamodb")
    from responsegap.store.schema import create_table  # the store owns its layout

    create_table(client, name, template_path=template_path)
    aws.physical[logical] = name
    aws.arns[logical] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def _redrive_target(spec: Mapping[str, Any]) -> Any:
    return spec.get("Properties", {}).get("RedrivePolicy")


_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
)


def _create_queue(aws: EmbeddedAws, logical: str, spec: Mapping[str, Any]) -> None:
    props = spec.get("Properties", {})
    name = str(_resolve(aws, props.get("QueueName", f"{STACK}-{logical}")))
    if props.get("FifoQueue") and not name.endswith(".fifo"):
        name += ".fifo"
    attributes = {key: _attr(_resolve(aws, props[key])) for key in _QUEUE_ATTRIBUTES if key in props}
    redrive = props.get("RedrivePolicy")
    if redrive is not None:
        attributes["RedrivePolicy"] = json.dumps(_resolve(aws, redrive))
    url = aws.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    aws.physical[logical] = url
    aws.arns[logical] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def _attr(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _create_bucket(aws: EmbeddedAws, logical: str, spec: Mapping[str, Any]) -> None:
    props = spec.get("Properties", {})
    name = str(_resolve(aws, props.get("BucketName", f"{STACK}-{logical.lower()}-{ACCOUNT}")))
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    if props.get("VersioningConfiguration"):
        s3.put_bucket_versioning(
            Bucket=name,
            VersioningConfiguration={"Status": props["VersioningConfiguration"].get("Status", "Enabled")},
        )
    aws.physical[logical] = name
    aws.arns[logical] = f"arn:aws:s3:::{name}"


# --- the handlers' environment ----------------------------------------------------------


def _function_environment(aws: EmbeddedAws, sender: str) -> dict[str, str]:
    """Globals + every function's ``Environment.Variables``, resolved to the local resources.

    Functions share one process here, so their variables are merged; a name two functions
    set differently would be a template smell and the first one wins.
    """
    template = aws.template
    env: dict[str, str] = {}
    globals_env = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    for key, value in globals_env.items():
        env[key] = _text(_resolve(aws, value))
    for name in aws.resource_of_type("AWS::Serverless::Function") + aws.resource_of_type(
        "AWS::Lambda::Function"
    ):
        variables = (
            template["Resources"][name].get("Properties", {}).get("Environment", {}).get("Variables", {})
        )
        for key, value in variables.items():
            env.setdefault(key, _text(_resolve(aws, value)))
    # What the code needs even while the template does not list it yet.
    tables = aws.resource_of_type("AWS::DynamoDB::Table")
    if tables:
        env.setdefault("TABLE_NAME", aws.physical[tables[0]])
    for logical, variable in (("PollQueue", "POLL_QUEUE_URL"), ("ReportQueue", "REPORT_QUEUE_URL")):
        if logical in aws.physical:
            env.setdefault(variable, aws.physical[logical])
    buckets = aws.resource_of_type("AWS::S3::Bucket")
    if buckets:
        env.setdefault("ARCHIVE_BUCKET", aws.physical[buckets[0]])
    env["SENDER_EMAIL"] = env.get("SENDER_EMAIL") or sender
    return env


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _parameter_default(aws: EmbeddedAws, name: str) -> Any:
    if name in aws.parameters:
        return aws.parameters[name]
    parameter = aws.template.get("Parameters", {}).get(name)
    return None if parameter is None else parameter.get("Default", "")


_PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::StackName": STACK,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NoValue": "",
}


def _ref(aws: EmbeddedAws, name: str) -> Any:
    if name in _PSEUDO:
        return _PSEUDO[name]
    if name in aws.physical:
        return aws.physical[name]
    default = _parameter_default(aws, name)
    if default is not None:
        return default
    # A function or schedule: its name is all a local run can offer.
    return f"{STACK}-{name}"


def _get_att(aws: EmbeddedAws, logical: str, attribute: str) -> str:
    if attribute == "Arn":
        return aws.arns.get(logical, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{STACK}-{logical}")
    if attribute == "QueueName":
        return aws.physical.get(logical, "").rsplit("/", 1)[-1]
    if attribute == "QueueUrl":
        return aws.physical.get(logical, "")
    if attribute == "TopicName":
        return aws.physical.get(logical, "").rsplit(":", 1)[-1]
    return str(aws.physical.get(logical, f"{STACK}-{logical}"))


def _resolve(aws: EmbeddedAws, value: Any) -> Any:
    """Evaluate the intrinsic functions a template's properties use, against local names."""
    if isinstance(value, list):
        return [_resolve(aws, item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref":
            return _ref(aws, argument)
        if key == "Fn::GetAtt":
            logical, attribute = argument if isinstance(argument, list) else str(argument).split(".", 1)
            return _get_att(aws, logical, attribute)
        if key == "Fn::Sub":
            return _sub(aws, argument)
        if key == "Fn::Join":
            separator, items = argument
            return separator.join(str(_resolve(aws, item)) for item in items)
        if key == "Fn::Select":
            index, items = argument
            return _resolve(aws, items)[int(index)]
        if key == "Fn::If":
            return _resolve(aws, argument[1])  # conditions default to their "true" branch locally
    return {k: _resolve(aws, v) for k, v in value.items()}


def _sub(aws: EmbeddedAws, argument: Any) -> str:
    import re

    text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in variables:
            return str(_resolve(aws, variables[name]))
        if "." in name:
            logical, attribute = name.split(".", 1)
            return _get_att(aws, logical, attribute)
        return str(_ref(aws, name))

    return re.sub(r"\$\{([^}!]+)\}", replace, text)
