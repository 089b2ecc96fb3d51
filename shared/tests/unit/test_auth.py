"""Token verification: HS256 with the shared secret, RS256 from a JWKS file, and everything that must be refused."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr
from territory_shared.api.auth import ServiceCredentials, TokenVerifier, mint_token
from territory_shared.api.problems import Unauthorized
from territory_shared.settings import AuthSettings

SECRET = "unit-test-secret-0123456789-0123456789"


def claims(**extra: object) -> dict[str, object]:
    now = int(time.time())
    return {"sub": "u1", "tenant": "acme", "roles": ["planner"], "iat": now, "exp": now + 300, **extra}


def hs256(secret: str = SECRET, **extra: object) -> str:
    return jwt.encode(claims(**extra), secret, algorithm="HS256")


@pytest.fixture
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks_file(tmp_path, rsa_key):
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}))
    return path


def settings_of(**given: object) -> AuthSettings:
    # Only what the test gives: the environment's AUTH_* (the tests' own secret) stays out.
    return AuthSettings.model_construct(**{**AuthSettings(_env_file=None).model_dump(), "jwt_secret": None, **given})


def verifier(**given: object) -> TokenVerifier:
    if isinstance(given.get("jwt_secret"), str):
        given["jwt_secret"] = SecretStr(given["jwt_secret"])  # type: ignore[arg-type]
    return TokenVerifier(settings_of(**given))


def test_an_hs256_token_signed_with_the_shared_secret_gives_its_tenant_roles_and_subject():
    principal = verifier(jwt_secret=SECRET).verify(hs256())
    assert (principal.tenant, principal.roles, principal.subject) == ("acme", frozenset({"planner"}), "u1")


def test_an_rs256_token_is_checked_against_the_keys_of_a_jwks_file(jwks_file, rsa_key):
    token = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "k1"})
    assert verifier(jwks_file=str(jwks_file)).verify(token).tenant == "acme"
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims(), other, algorithm="RS256", headers={"kid": "k1"})
    with pytest.raises(Unauthorized, match="not valid"):
        verifier(jwks_file=str(jwks_file)).verify(forged)
    unknown_kid = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "k2"})
    with pytest.raises(Unauthorized, match="key"):
        verifier(jwks_file=str(jwks_file)).verify(unknown_kid)


def test_an_hs256_token_is_refused_where_only_public_keys_are_trusted(jwks_file):
    # Else anyone could sign with the public key as an HMAC secret.
    with pytest.raises(Unauthorized, match="not accepted"):
        verifier(jwks_file=str(jwks_file)).verify(hs256())


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (lambda: hs256(exp=int(time.time()) - 3600), "expired"),
        (lambda: hs256(secret="another-secret-0123456789-0123456789"), "Signature verification failed"),
        (lambda: jwt.encode(claims(), None, algorithm="none"), "not accepted"),
        (lambda: hs256(roles=["superuser"]), "roles"),
        (lambda: hs256(tenant="bad tenant/../"), "tenant"),
        (lambda: hs256(roles=["rep"]), "rep_id"),
        (lambda: jwt.encode({k: v for k, v in claims().items() if k != "exp"}, SECRET, algorithm="HS256"), "exp"),
        (lambda: "not-a-jwt", "not a JWT"),
    ],
    ids=[
        "expired",
        "wrong-signature",
        "alg-none",
        "unknown-role",
        "bad-tenant",
        "rep-without-rep-id",
        "no-exp",
        "junk",
    ],
)
def test_bad_tokens_are_refused_with_the_reason(token, reason):
    with pytest.raises(Unauthorized, match=reason) as refused:
        verifier(jwt_secret=SECRET).verify(token())
    assert refused.value.headers["WWW-Authenticate"].startswith("Bearer ")


def test_issuer_and_audience_are_required_when_configured():
    strict = verifier(jwt_secret=SECRET, issuer="https://idp.example", audience="territory")
    assert strict.verify(hs256(iss="https://idp.example", aud="territory")).tenant == "acme"
    with pytest.raises(Unauthorized, match="(?i)audience"):
        strict.verify(hs256(iss="https://idp.example", aud="someone-else"))
    with pytest.raises(Unauthorized, match="(?i)issuer"):
        strict.verify(hs256(iss="https://evil.example", aud="territory"))
    with pytest.raises(Unauthorized):
        strict.verify(hs256())


def test_a_rep_token_is_limited_to_the_rep_it_names():
    rep = verifier(jwt_secret=SECRET).verify(hs256(roles=["rep"], rep_id="R-7"))
    assert rep.rep_scope == "R-7"
    both = verifier(jwt_secret=SECRET).verify(hs256(roles=["rep", "manager"], rep_id="R-7"))
    assert both.rep_scope is None  # a broader role is not narrowed


def test_service_tokens_are_short_lived_reused_and_accepted_by_the_other_services():
    settings = settings_of(jwt_secret=SecretStr(SECRET), service_token_ttl_s=120)
    credentials = ServiceCredentials(settings, "assignment-service")
    first = credentials.headers("acme")
    assert credentials.headers("acme") == first
    principal = TokenVerifier(settings).verify(first["Authorization"].removeprefix("Bearer "))
    assert (principal.tenant, principal.roles) == ("acme", frozenset({"service"}))
    assert jwt.decode(first["Authorization"][7:], SECRET, algorithms=["HS256"])["exp"] - time.time() <= 120
    assert credentials.headers("other") != first


def test_minted_tokens_carry_the_configured_issuer_and_audience():
    settings = settings_of(jwt_secret=SecretStr(SECRET), issuer="i", audience="a")
    token = mint_token(settings, "acme", ["admin"], subject="x", ttl_s=60)
    assert TokenVerifier(settings).verify(token).roles == {"admin"}
