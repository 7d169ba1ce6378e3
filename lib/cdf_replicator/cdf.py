"""The CDF adapter: build an authenticated ``CogniteClient`` from config and check that it can reach the project.

Every failure becomes a one-line :class:`CdfAccessError`; secret values are scrubbed from SDK messages.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import httpx2  # the HTTP library of cognite-sdk 8.x; its token fetch raises httpx2 errors unwrapped
from cognite.client import ClientConfig, CogniteClient, global_config
from cognite.client.credentials import CredentialProvider, OAuthClientCredentials, Token
from cognite.client.exceptions import CogniteException

from cdf_replicator.config_model import REDACTED, CogniteConfig, ConnectionConfig, Secret
from cdf_replicator.errors import CdfAccessError

logger = logging.getLogger(__name__)


def create_client(config: CogniteConfig) -> CogniteClient:
    """A ``CogniteClient`` for ``config``: static ``token`` or OAuth client credentials, ``base_url`` = host.

    Retries and TLS verification are process-wide settings in cognite-sdk (``global_config``), so they are applied
    here for every client of the process; the timeout is per client. No request is made.
    """
    apply_connection_settings(config.connection)
    try:
        return CogniteClient(
            ClientConfig(
                client_name=config.client_name,
                project=config.project,
                credentials=build_credentials(config),
                base_url=config.host,
                timeout=max(1, math.ceil(config.connection.timeout)),
            )
        )
    except (CogniteException, TypeError, ValueError) as error:
        raise CdfAccessError(
            f"cannot create the CDF client for {_target(config)}: {_one_line(error, config)}"
        ) from None


def build_credentials(config: CogniteConfig) -> CredentialProvider:
    """The SDK credential provider: ``Token`` for a static token, else ``OAuthClientCredentials``."""
    if config.token is not None:
        return Token(config.token.reveal())
    if config.oauth is None:
        raise CdfAccessError(f"no credentials configured for {_target(config)}")
    oauth = config.oauth
    extra: dict[str, Any] = {
        key: value for key, value in (("audience", oauth.audience), ("resource", oauth.resource)) if value
    }
    return OAuthClientCredentials(
        token_url=oauth.token_url,
        client_id=oauth.client_id,
        client_secret=oauth.secret.reveal(),
        scopes=list(oauth.scopes) or None,
        **extra,
    )


def apply_connection_settings(connection: ConnectionConfig) -> None:
    """Set cognite-sdk's process-wide retry and TLS settings, and turn off its PyPI version check."""
    global_config.disable_pypi_version_check = True
    global_config.max_retries = connection.max_retries
    global_config.disable_ssl = connection.disable_ssl


def verify_access(client: CogniteClient, config: CogniteConfig) -> list[str]:
    """Fetch a token and inspect it; raise :class:`CdfAccessError` unless it grants access to the project.

    Returns the projects the token can access. This makes one request to the token endpoint (OAuth) and one to
    ``/api/v1/token/inspect``, and writes nothing.
    """
    try:
        inspection = client.iam.token.inspect()
    except (CogniteException, httpx2.HTTPError) as error:
        raise CdfAccessError(f"cannot access {_target(config)}: {_one_line(error, config)}") from None
    projects = [project.url_name for project in inspection.projects]
    if config.project not in projects:
        listed = ", ".join(projects) or "none"
        raise CdfAccessError(f"the credentials give no access to {_target(config)} (projects: {listed})")
    logger.debug("CDF token for %s grants projects %s", _target(config), projects)
    return projects


def _target(config: CogniteConfig) -> str:
    return f"project '{config.project}' at {config.host}"


def _one_line(error: BaseException, config: CogniteConfig) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    for secret in _secrets(config):
        if secret:
            text = text.replace(secret, REDACTED)
    return text if len(text) <= 300 else text[:297] + "..."


def _secrets(config: CogniteConfig) -> list[str]:
    found: list[Secret] = [secret for secret in (config.token, config.oauth and config.oauth.secret) if secret]
    return [secret.reveal() for secret in found]


def project_path(client: CogniteClient, path: str) -> str:
    """The full API path of a project resource, as the SDK's generic ``get``/``post`` need it.

    ``client.post("/models/...")`` is sent to the host root; project resources live under
    ``/api/v1/projects/<project>``.
    """
    return f"/api/v1/projects/{client.config.project}{path}"
