"""The geo-service client never lets an id from a request become another path on geo-service."""

from __future__ import annotations

import httpx
import pytest
from assignment_service.clients.geo import GeoUnavailable, HttpGeoClient
from territory_shared.api.auth import ServiceCredentials
from territory_shared.settings import AuthSettings


def _client(seen: list[str], status: int = 200) -> HttpGeoClient:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        body = {"id": "a1", "layer_id": "l1", "sales_force": "field", "state": "draft", "version": 2}
        return httpx.Response(status, json=body if status == 200 else None)

    credentials = ServiceCredentials(AuthSettings(jwt_secret="unit-test-secret-" + "x" * 32), "assignment-service")
    return HttpGeoClient(httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://geo"), credentials)


@pytest.mark.parametrize("alignment_id", ["", "a1/units", "../layers"])
async def test_an_alignment_id_that_is_no_single_path_segment_names_no_alignment(alignment_id):
    seen: list[str] = []
    assert await _client(seen).alignment("acme", alignment_id) is None
    assert seen == []


async def test_an_alignment_id_is_sent_as_one_quoted_path_segment():
    seen: list[str] = []
    info = await _client(seen).alignment("acme", "a1?x=1#y")
    assert info is not None and info.layer_id == "l1"
    assert seen == ["/v1/alignments/a1%3Fx%3D1%23y"]


async def test_an_answer_that_is_not_an_alignment_is_geo_unavailable_not_a_crash():
    with pytest.raises(GeoUnavailable):
        await _client([], status=307).alignment("acme", "a1")
