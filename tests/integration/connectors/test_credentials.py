"""CredentialStore against SSM and Secrets Manager on moto."""

from __future__ import annotations

import json

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider
from moto import mock_aws

from responsegap.connectors.base import CredentialsError
from responsegap.connectors.credentials import CredentialStore
from responsegap.domain.model import Profile

REGION = "eu-west-1"
TOKEN = "AAAA-very-secret-bearer"
PROFILE = Profile(brand_id="acme", platform="x", handle="acmehelp", credentials="/responsegap/x/acmehelp")


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield boto3.client("ssm", region_name=REGION), boto3.client("secretsmanager", region_name=REGION)


def store(aws, max_age: int = 300) -> CredentialStore:
    ssm, secrets = aws
    return CredentialStore(
        "/responsegap/",
        max_age,
        ssm=SSMProvider(boto3_client=ssm),
        secrets=SecretsProvider(boto3_client=secrets),
    )


def put(ssm, name: str, value: str) -> None:
    ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)


def test_reads_a_securestring_json_parameter(aws) -> None:
    put(aws[0], "/responsegap/x/acmehelp", json.dumps({"bearer_token": TOKEN}))
    assert store(aws).get(PROFILE) == {"bearer_token": TOKEN}


def test_default_name_is_path_platform_handle(aws) -> None:
    put(aws[0], "/responsegap/mastodon/acmehelp", json.dumps({"access_token": TOKEN}))
    profile = Profile(brand_id="acme", platform="mastodon", handle="acmehelp")
    assert store(aws).get(profile) == {"access_token": TOKEN}


def test_values_are_cached_for_max_age(aws) -> None:
    put(aws[0], "/responsegap/x/acmehelp", json.dumps({"bearer_token": TOKEN}))
    credentials = store(aws)
    assert credentials.get(PROFILE)["bearer_token"] == TOKEN
    put(aws[0], "/responsegap/x/acmehelp", json.dumps({"bearer_token": "rotated"}))
    assert credentials.get(PROFILE)["bearer_token"] == TOKEN  # still the cached value
    assert store(aws, max_age=0).get(PROFILE)["bearer_token"] == "rotated"


def test_reads_secrets_manager_by_name_and_by_arn(aws) -> None:
    arn = aws[1].create_secret(Name="responsegap/bluesky/acme", SecretString=json.dumps({"password": TOKEN}))[
        "ARN"
    ]
    by_name = Profile(
        brand_id="acme",
        platform="bluesky",
        handle="acme.bsky.social",
        credentials="secret:responsegap/bluesky/acme",
    )
    by_arn = Profile(brand_id="acme", platform="bluesky", handle="acme.bsky.social", credentials=arn)
    credentials = store(aws)
    assert credentials.get(by_name) == credentials.get(by_arn) == {"password": TOKEN}


def test_missing_parameter_names_profile_and_parameter(aws) -> None:
    with pytest.raises(CredentialsError) as caught:
        store(aws).get(PROFILE)
    message = str(caught.value)
    assert (
        message.startswith("x#acmehelp: ")
        and "/responsegap/x/acmehelp" in message
        and "do not exist" in message
    )


def test_missing_secret_names_profile_and_secret(aws) -> None:
    profile = Profile(brand_id="acme", platform="x", handle="acmehelp", credentials="secret:nope")
    with pytest.raises(CredentialsError, match="x#acmehelp: credentials 'secret:nope' do not exist"):
        store(aws).get(profile)


@pytest.mark.parametrize(
    "value", ["not json " + TOKEN, json.dumps([TOKEN]), json.dumps({"bearer_token": 5}), "{}"]
)
def test_bad_values_are_refused_without_showing_them(aws, value: str) -> None:
    put(aws[0], "/responsegap/x/acmehelp", value)
    with pytest.raises(CredentialsError) as caught:
        store(aws).get(PROFILE)
    assert TOKEN not in str(caught.value) and "x#acmehelp" in str(caught.value)
    # The SDK's error is not chained: its text is not ours to vouch for.
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_parameters_outside_the_path_are_refused(aws) -> None:
    put(aws[0], "/other-app/database", json.dumps({"password": TOKEN}))
    profile = Profile(brand_id="acme", platform="x", handle="acmehelp", credentials="/other-app/database")
    with pytest.raises(CredentialsError, match="not under '/responsegap/'"):
        store(aws).get(profile)
