"""Platform credentials of a profile, read through Powertools Parameters and cached.

``profile.credentials`` names where the profile's credentials live:

- an SSM SecureString parameter such as ``/responsegap/x/acmehelp`` holding a JSON object
  (``{"bearer_token": "..."}``); it must sit under the configured path, so a profile's
  configuration cannot point the poller at any other parameter of the account;
- ``secret:<name>`` or a Secrets Manager ARN, for teams that rotate tokens there.

Left empty, it defaults to ``{parameters_path}{platform}/{handle}``. Values are cached for
``max_age`` seconds per store (one store per Lambda container), so a warm poller reads SSM
at most every five minutes per profile. Errors name the profile and the parameter, never a
value, and do not chain the SDK exception (whose text we do not control).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

from responsegap.connectors.base import CredentialsError
from responsegap.domain.model import Profile

_SECRET_PREFIX = "secret:"  # noqa: S105 - a name prefix, not a secret
_SECRET_ARN = "arn:aws:secretsmanager:"  # noqa: S105 - an ARN prefix


class CredentialStore:
    """``get(profile)`` -> the profile's credentials as ``dict[str, str]``."""

    def __init__(
        self,
        parameters_path: str = "/responsegap/",
        max_age: int = 300,
        *,
        ssm: SSMProvider | None = None,
        secrets: SecretsProvider | None = None,
    ) -> None:
        if not parameters_path.startswith("/") or not parameters_path.endswith("/"):
            raise ValueError("parameters_path must start and end with '/', like /responsegap/")
        self.parameters_path = parameters_path
        self.max_age = max_age
        # Own providers rather than the module-level get_parameter/get_secret: the cache then
        # belongs to this store (tests and profiles do not share it by accident), and clients
        # are created only when first needed, in the region of the running function.
        self._ssm = ssm
        self._secrets = secrets

    def name_for(self, profile: Profile) -> str:
        return profile.credentials or f"{self.parameters_path}{profile.platform}/{profile.handle}"

    def get(self, profile: Profile) -> dict[str, str]:
        name = self.name_for(profile)
        try:
            if name.startswith(_SECRET_PREFIX) or name.startswith(_SECRET_ARN):
                secret_id = name.removeprefix(_SECRET_PREFIX)
                value: Any = self._secrets_provider().get(secret_id, max_age=self.max_age, transform="json")
            else:
                if not name.startswith(self.parameters_path):
                    raise CredentialsError(
                        profile.key, f"credentials parameter {name!r} is not under {self.parameters_path!r}"
                    )
                value = self._ssm_provider().get(name, max_age=self.max_age, transform="json", decrypt=True)
        except GetParameterError as error:
            raise CredentialsError(
                profile.key, f"credentials {name!r} {_why(str(error))}; store them as a JSON object"
            ) from None
        except TransformParameterError:
            raise CredentialsError(profile.key, f"credentials {name!r} are not valid JSON") from None
        if not isinstance(value, dict) or not value:
            raise CredentialsError(profile.key, f"credentials {name!r} must be a non-empty JSON object")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise CredentialsError(profile.key, f"credentials {name!r} must map names to strings")
        return dict(value)

    def _ssm_provider(self) -> SSMProvider:
        if self._ssm is None:
            self._ssm = SSMProvider()
        return self._ssm

    def _secrets_provider(self) -> SecretsProvider:
        if self._secrets is None:
            self._secrets = SecretsProvider()
        return self._secrets


def _why(sdk_message: str) -> str:
    """A cause in our words: the SDK text is not repeated in case it ever quotes a value."""
    if "NotFound" in sdk_message:
        return "do not exist"
    if "AccessDenied" in sdk_message or "not authorized" in sdk_message:
        return "cannot be read (access denied)"
    return "could not be read"
