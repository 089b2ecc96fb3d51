"""Credentials of the embedded mode: a signing secret kept in the data folder, and a local admin token.

Nothing is open in the embedded mode either: on its first start, unless ``AUTH_JWT_SECRET`` (or a JWKS) is
configured, a random secret is generated and kept in ``<data>/auth-secret`` (readable by its owner only), so
tokens stay valid across restarts. Each start signs a fresh admin token for tenant ``demo``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import SecretStr
from territory_shared.api.auth import mint_token
from territory_shared.settings import AuthSettings

SECRET_FILE = "auth-secret"
ADMIN_TOKEN_FILE = "admin-token.txt"
ADMIN_TENANT = "demo"
ADMIN_TOKEN_TTL_S = 30 * 24 * 3600  # a local tool: a month, renewed at every start


def embedded_auth(data_dir: Path) -> AuthSettings:
    configured = AuthSettings()
    if configured.configured:
        return configured
    path = data_dir / SECRET_FILE
    if not path.exists():
        # O_EXCL and 0600: never overwrite a secret, never let other users read it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return configured.model_copy(update={"jwt_secret": SecretStr(path.read_text().strip())})


def admin_token(auth: AuthSettings) -> str:
    return mint_token(auth, ADMIN_TENANT, ["admin"], subject="local-admin", ttl_s=ADMIN_TOKEN_TTL_S)
