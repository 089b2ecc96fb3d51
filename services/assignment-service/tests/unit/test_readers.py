"""Streamed bodies split into rows whatever the chunk boundaries, with the line each row starts on."""

from __future__ import annotations

import json

import pytest
from assignment_service.api.readers import csv_rows, json_array_rows, ndjson_rows
from assignment_service.domain.accounts import Malformed
from territory_shared.api.problems import InvalidInput, MalformedRequest


async def chunks_of(data: bytes, size: int):  # type: ignore[no-untyped-def]
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def collect(parser, data: bytes, size: int) -> list:  # type: ignore[no-untyped-def]
    return [row async for row in parser(chunks_of(data, size))]


@pytest.mark.parametrize("size", [1, 3, 7, 64, 10_000])
async def test_a_json_array_is_split_into_elements_across_any_chunking(size):
    rows = [{"external_id": f"é{i}", "lat": 35.5 + i, "lon": -79} for i in range(5)]
    data = json.dumps(rows, ensure_ascii=False).encode()
    assert await collect(json_array_rows, data, size) == list(enumerate(rows, start=1))
    assert await collect(json_array_rows, b" [ ] ", size) == []


@pytest.mark.parametrize("body", [b'[{"a": 1} {"b": 2}]', b'[{"a": 1}, {"b": ', b"[1, 2"])
async def test_a_body_that_is_not_valid_json_is_refused_as_malformed(body):
    with pytest.raises(MalformedRequest):
        await collect(json_array_rows, body, 4)


async def test_valid_json_that_is_not_an_array_is_refused_as_invalid_input():
    with pytest.raises(InvalidInput) as refused:
        await collect(json_array_rows, b'{"a": 1}', 4)
    assert refused.value.extensions["field"] == "body"


@pytest.mark.parametrize("size", [1, 5, 4096])
async def test_ndjson_rows_keep_their_line_numbers_and_a_bad_line_is_reported_not_fatal(size):
    data = b'{"a": 1}\n\n{oops\r\n{"b": 2}'
    rows = await collect(ndjson_rows, data, size)
    assert rows[0] == (1, {"a": 1}) and rows[2] == (4, {"b": 2})
    assert rows[1][0] == 3 and isinstance(rows[1][1], Malformed)


@pytest.mark.parametrize("size", [1, 6, 4096])
async def test_csv_rows_handle_quoted_commas_and_newlines_and_skip_empty_values(size):
    data = b'external_id,name,potential\r\nx1,"Smith, ""Jr""",10\r\nx2,"two\nlines",\r\nx3,a,b,c\n'
    rows = await collect(csv_rows, data, size)
    assert rows[0] == (2, {"external_id": "x1", "name": 'Smith, "Jr"', "potential": "10"})
    assert rows[1] == (3, {"external_id": "x2", "name": "two\nlines"})
    assert rows[2][0] == 5 and isinstance(rows[2][1], Malformed)
