"""Who is calling: bearer JWTs (HS256 with the shared secret, RS256 from a JWKS) and API keys, turned into a
``Principal`` (tenant, roles, subject, rep id) that every endpoint acts for.

Every route of a service passes through ``authorize`` (an app-wide dependency): open routes (health, docs) are
named in ``OPEN_PATHS``; any other route must be listed in the service's access table (``roles.py``), so a new
endpoint is refused to everyone until someone decides who may call it.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from territory_shared.actor import SYSTEM, current_actor, set_actor
from territory_shared.api.api_key_store import KEY_PREFIX, principal_for_key
from territory_shared.api.principal import Principal
from territory_shared.api.problems import Forbidden, Unauthorized
from territory_shared.api.roles import ROLES, SERVICE, AccessTable
from territory_shared.settings import AuthSettings

OPEN_PATHS = frozenset({"/healthz", "/readyz", "/prometheus"})
TENANT_FORMAT = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# JWS algorithms by key type; "none" and anything else is refused before a key is even looked up.
HMAC_ALGORITHMS = ("HS256",)
PUBLIC_KEY_ALGORITHMS = ("RS256",)


def principal_from_claims(claims: dict[str, Any], via: str = "jwt") -> Principal:
    tenant = claims.get("tenant")
    if not isinstance(tenant, str) or not TENANT_FORMAT.match(tenant):
        raise Unauthorized("The token names no valid tenant (claim `tenant`: 1-64 letters, digits, '-', '_', '.').")
    raw = claims.get("roles", [])
    roles = frozenset(r for r in ([raw] if isinstance(raw, str) else raw) if r in ROLES)
    if not roles:
        raise Unauthorized(f"The token carries none of the roles {', '.join(sorted(ROLES))} (claim `roles`).")
    rep_id = claims.get("rep_id")
    if "rep" in roles and not isinstance(rep_id, str):
        raise Unauthorized("A rep's token names the rep (claim `rep_id`: the rep's external id).")
    return Principal(tenant, roles, str(claims.get("sub", "")), rep_id if isinstance(rep_id, str) else None, via)


class TokenVerifier:
    """Checks a JWT's signature, expiry, issuer and audience against the configured keys."""

    def __init__(self, settings: AuthSettings) -> None:
        self._settings = settings
        self._secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
        self._jwks_client = (
            jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=max(settings.jwks_cache_s, 1))
            if settings.jwks_url
            else None
        )
        self._jwks_file: tuple[float, jwt.PyJWKSet] | None = None

    @property
    def fetches_keys(self) -> bool:
        return self._jwks_client is not None

    def _file_key(self, kid: str | None) -> Any:
        path = Path(self._settings.jwks_file or "")
        mtime = path.stat().st_mtime
        if self._jwks_file is None or self._jwks_file[0] != mtime:  # re-read when the keys are rotated
            self._jwks_file = (mtime, jwt.PyJWKSet.from_json(path.read_text()))
        keys = self._jwks_file[1].keys
        found = [k for k in keys if kid is None or k.key_id == kid]
        if not found:
            raise Unauthorized("The token is signed with a key the service does not know.")
        return found[0].key

    def _key(self, token: str) -> tuple[Any, str]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"The bearer token is not a JWT: {exc}") from exc
        alg = header.get("alg")
        if alg in HMAC_ALGORITHMS and self._secret:
            return self._secret, alg
        if alg in PUBLIC_KEY_ALGORITHMS and self._jwks_client is not None:
            kid = header.get("kid")
            if not isinstance(kid, str):
                raise Unauthorized("The token's signing key could not be found: the token names no key (kid).")
            try:
                return self._jwks_client.get_signing_key(kid).key, alg
            except jwt.PyJWKClientError as exc:
                raise Unauthorized(f"The token's signing key could not be found: {exc}") from exc
        if alg in PUBLIC_KEY_ALGORITHMS and self._settings.jwks_file:
            return self._file_key(header.get("kid")), alg
        raise Unauthorized(f"Tokens signed with {alg!r} are not accepted here.")

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; ``Unauthorized`` otherwise. May fetch keys: call off the event loop."""
        key, alg = self._key(token)
        s = self._settings
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=s.audience,
                issuer=s.issuer,
                leeway=s.leeway_s,
                options={"require": ["exp", "sub"], "verify_aud": s.audience is not None},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"The token is not valid: {exc}") from exc
        return principal_from_claims(claims)


def mint_token(
    settings: AuthSettings,
    tenant: str,
    roles: list[str],
    *,
    subject: str,
    ttl_s: int,
    rep_id: str | None = None,
) -> str:
    """An HS256 token signed with the shared secret (service-to-service calls, the embedded admin)."""
    if settings.jwt_secret is None:
        raise RuntimeError("AUTH_JWT_SECRET is not set: no token can be signed")
    now = int(time.time())
    claims: dict[str, Any] = {"sub": subject, "tenant": tenant, "roles": roles, "iat": now, "exp": now + ttl_s}
    claims["jti"] = uuid.uuid4().hex
    if rep_id is not None:
        claims["rep_id"] = rep_id
    if settings.issuer:
        claims["iss"] = settings.issuer
    if settings.audience:
        claims["aud"] = settings.audience
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


class ServiceCredentials:
    """What a service presents when it calls another for a tenant: a short-lived token, role ``service``.

    Background consumers use it too: an event's ``tenantid`` is the tenant they act for. Tokens are reused
    until a minute before they expire.
    """

    def __init__(self, settings: AuthSettings, service_name: str) -> None:
        self._settings = settings
        self._subject = f"service:{service_name}"
        self._tokens: dict[str, tuple[float, str]] = {}

    def headers(self, tenant: str) -> dict[str, str]:
        if self._settings.jwt_secret is None:
            return {}  # the callee answers 401, which says what is missing
        ttl = self._settings.service_token_ttl_s
        expires, token = self._tokens.get(tenant, (0.0, ""))
        if expires - time.time() < min(60, ttl / 2):
            token = mint_token(self._settings, tenant, ["service"], subject=self._subject, ttl_s=ttl)
            self._tokens[tenant] = (time.time() + ttl, token)
        # The user the call is made for: the callee records them, not the service, as who made the change.
        return {"Authorization": f"Bearer {token}", ON_BEHALF_OF: current_actor()}


# Sent by ServiceCredentials; trusted only from the role ``service``.
ON_BEHALF_OF = "X-On-Behalf-Of"

bearer_scheme = HTTPBearer(auto_error=False, description="A JWT, or an API key, as `Authorization: Bearer ...`")
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key (CRM integrations)")


async def _principal(request: Request, bearer: HTTPAuthorizationCredentials | None, api_key: str | None) -> Principal:
    credential = api_key or (bearer.credentials if bearer else None)
    if not credential:
        raise Unauthorized("Credentials are required: `Authorization: Bearer <token or API key>`.", "invalid_request")
    if credential.startswith(KEY_PREFIX):
        return await principal_for_key(request.app.state.runtime.sessions, credential)
    verifier: TokenVerifier = request.app.state.token_verifier
    if verifier.fetches_keys:  # a key fetch blocks: keep it off the event loop
        return await asyncio.to_thread(verifier.verify, credential)
    return verifier.verify(credential)


async def authorize(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    api_key: Annotated[str | None, Security(api_key_scheme)],
) -> Principal | None:
    """The caller, checked against the access table of the route it called (401, then 403)."""
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    if path in OPEN_PATHS:
        return None
    principal = await _principal(request, bearer, api_key)
    access: AccessTable = request.app.state.access
    method = "GET" if request.method == "HEAD" else request.method
    allowed = access.get((method, path))
    if allowed is None:
        raise Forbidden(f"{method} {path} is in no access table: no role may call it.")
    if not principal.roles & allowed:
        raise Forbidden(
            f"{method} {path} needs one of the roles {', '.join(sorted(allowed))}; "
            f"the credentials carry {', '.join(sorted(principal.roles))}."
        )
    request.state.principal = principal
    set_actor(_actor(request, principal))  # every change this request makes is theirs

    return principal


def _actor(request: Request, principal: Principal) -> str:
    """Who the request acts for: the caller, or for another service of the platform the user it calls for."""
    on_behalf_of = request.headers.get(ON_BEHALF_OF)
    if SERVICE in principal.roles and on_behalf_of and on_behalf_of != SYSTEM:
        return on_behalf_of[:200]
    return principal.subject or f"{principal.via}:anonymous"


async def current_principal(principal: Annotated[Principal | None, Depends(authorize)]) -> Principal:
    if principal is None:  # an open route asked who is calling: no one is
        raise Unauthorized("Credentials are required.", "invalid_request")
    return principal


Caller = Annotated[Principal, Depends(current_principal)]
