"""Property-based fuzzing of each service's OpenAPI spec: generated requests, valid and invalid, never get a 5xx,
and every error is an RFC 9457 problem+json (type, title, status matching the response).

One test per operation; the number of examples per operation is bounded so the three specs take a minute or
two, and the run is derandomized, so a failure reproduces. ``FUZZ_EXAMPLES`` raises the bound for a longer run.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode

from tests.fuzz.conftest import TENANT, Platform, operations
from tests.support.auth import auth_headers

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as generated, and fast
)


def check(case: Case, platform: Platform, service: str) -> None:
    credentials = auth_headers(TENANT)
    # The credentials are ours: a generated header of the same name would act for another caller.
    names = {name.lower() for name in credentials}
    if case.headers:
        case.headers = {k: v for k, v in case.headers.items() if k.lower() not in names}
    response = case.call(headers=credentials)
    where = f"{case.method} {case.formatted_path} -> {response.status_code}\n{case.as_curl_command(credentials)}"
    assert response.status_code < 500, f"server error: {where}\n{response.text[:2000]}"
    if response.status_code < 400:
        if response.status_code == 202:
            _wait_for_job(platform, service, response)
        return
    content_type = ",".join(response.headers.get("content-type", []))
    assert content_type.startswith("application/problem+json"), f"not problem+json ({content_type}): {where}"
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"problem body is not JSON: {where}\n{response.text[:500]}") from None
    assert isinstance(body, dict), where
    assert isinstance(body.get("type"), str) and body["type"], f"no type: {where}\n{body}"
    assert isinstance(body.get("title"), str) and body["title"], f"no title: {where}\n{body}"
    assert body.get("status") == response.status_code, f"status differs: {where}\n{body}"


def _wait_for_job(platform: Platform, service: str, response: Any) -> None:
    # One job at a time: started jobs would otherwise pile up on SQLite's single writer.
    job_id = response.json().get("job_id")
    if job_id:
        platform.wait_for_job(service, job_id, must_succeed=False)


@pytest.mark.parametrize(("service", "method", "path"), operations())
def test_any_request_gets_no_server_error_and_every_error_is_a_problem(
    platform: Platform, schemas: dict[str, Any], service: str, method: str, path: str
) -> None:
    operation = schemas[service][path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @FUZZ
    @given(case=cases)
    def fuzz(case: Case) -> None:
        check(case, platform, service)

    fuzz()
