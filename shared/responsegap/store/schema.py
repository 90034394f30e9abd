"""The table definition, read from the ``Table`` resource of template.yaml.

template.yaml is the one source of truth for keys and indexes: the embedded AWS of the demo
and the tests creates its table from it, so a change to the template cannot drift from them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_NAME = "template.yaml"
TABLE_RESOURCE = "Table"


class TemplateNotFound(FileNotFoundError):
    """template.yaml is not beside the code or the working directory."""


class _CloudFormationLoader(yaml.SafeLoader):
    """A safe loader that reads CloudFormation tags (!Ref, !Sub, !GetAtt...) as plain data."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {f"!{suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _any_tag)


def find_template(start: str | os.PathLike[str] | None = None) -> Path:
    """template.yaml of the repository: from ``start``, this module, then the working directory, upwards."""
    env = os.environ.get("RESPONSEGAP_TEMPLATE")
    if env:
        path = Path(env)
        if path.is_file():
            return path
        raise TemplateNotFound(f"RESPONSEGAP_TEMPLATE={env} is not a file")
    origins = [Path(start)] if start is not None else []
    origins += [Path(__file__).resolve().parent, Path.cwd().resolve()]
    for origin in origins:
        for folder in (origin, *origin.parents):
            candidate = folder / TEMPLATE_NAME
            if candidate.is_file():
                return candidate
    raise TemplateNotFound(
        f"cannot find {TEMPLATE_NAME} above {', '.join(str(o) for o in origins)}; "
        "run from the repository or set RESPONSEGAP_TEMPLATE"
    )


def _table_properties(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_CloudFormationLoader)  # noqa: S506 - SafeLoader subclass
    try:
        resource = document["Resources"][TABLE_RESOURCE]
    except (KeyError, TypeError) as error:
        raise ValueError(f"{path} has no Resources.{TABLE_RESOURCE}") from error
    if resource.get("Type") != "AWS::DynamoDB::Table":
        raise ValueError(
            f"{path}: Resources.{TABLE_RESOURCE} is {resource.get('Type')!r}, not a DynamoDB table"
        )
    return dict(resource.get("Properties") or {})


def table_spec_from_template(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """``create_table`` keyword arguments (all but ``TableName``) from the template's ``Table``."""
    properties = _table_properties(Path(path) if path is not None else find_template())
    spec: dict[str, Any] = {
        "AttributeDefinitions": [dict(a) for a in properties["AttributeDefinitions"]],
        "KeySchema": [dict(k) for k in properties["KeySchema"]],
        "BillingMode": properties.get("BillingMode", "PAY_PER_REQUEST"),
    }
    indexes = properties.get("GlobalSecondaryIndexes")
    if indexes:
        spec["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index["IndexName"],
                "KeySchema": [dict(k) for k in index["KeySchema"]],
                "Projection": dict(index.get("Projection") or {"ProjectionType": "ALL"}),
            }
            for index in indexes
        ]
    sse = properties.get("SSESpecification")
    if sse and sse.get("SSEEnabled"):
        spec["SSESpecification"] = {"Enabled": True}
    return spec


def ttl_attribute_from_template(path: str | os.PathLike[str] | None = None) -> str | None:
    properties = _table_properties(Path(path) if path is not None else find_template())
    ttl = properties.get("TimeToLiveSpecification") or {}
    return ttl.get("AttributeName") if ttl.get("Enabled") else None


def create_table(
    client: Any, name: str, template_path: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """Create the table as the template describes it, with TTL (and PITR where supported)."""
    path = Path(template_path) if template_path is not None else find_template()
    spec = table_spec_from_template(path)
    response = client.create_table(TableName=name, **spec)
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    ttl_attribute = ttl_attribute_from_template(path)
    if ttl_attribute:
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute}
        )
    pitr = _table_properties(path).get("PointInTimeRecoverySpecification") or {}
    if pitr.get("PointInTimeRecoveryEnabled"):
        client.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    return response["TableDescription"]
