"""Streamed request bodies -> rows: a JSON array, NDJSON or CSV, read chunk by chunk (never whole in memory).

Each row comes with its line: the NDJSON or CSV line it starts on (the CSV header is line 1), or its position
in the JSON array. A JSON array that is not valid JSON cannot be split into rows: that is a 400 for the body.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
from collections.abc import AsyncIterator

from territory_shared.api.problems import BadRequest, MalformedRequest

from assignment_service.domain.accounts import Malformed

MAX_PENDING_CHARS = 10_000_000


class HashingStream:
    """Wraps the body stream and keeps its SHA-256, for the Idempotency-Key check."""

    def __init__(self, stream: AsyncIterator[bytes]) -> None:
        self._stream = stream
        self._hash = hashlib.sha256()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            self._hash.update(chunk)
            yield chunk

    def hexdigest(self) -> str:
        return self._hash.hexdigest()

    async def read_all(self) -> str:
        """Read what is left of the body; the SHA-256 of all of it."""
        async for _ in self:
            pass
        return self.hexdigest()


async def _text(chunks: AsyncIterator[bytes]) -> AsyncIterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    async for chunk in chunks:
        text = decoder.decode(chunk)
        if text:
            yield text
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail


async def _lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[str]:
    pending = ""
    async for text in _text(chunks):
        pending += text
        parts = pending.split("\n")
        pending = parts.pop()
        for part in parts:
            yield part
    if pending:
        yield pending


async def ndjson_rows(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, object]]:
    number = 0
    async for line in _lines(chunks):
        number += 1
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except ValueError as exc:
            yield number, Malformed(f"not valid JSON: {exc}")


async def csv_rows(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, object]]:
    header: list[str] | None = None
    number, start, record, quotes = 0, 0, "", 0
    async for line in _lines(chunks):
        number += 1
        if not record:
            start = number
        record += line + "\n"
        quotes += line.count('"')
        if quotes % 2:
            continue  # a quoted value goes on over the next line
        text, record, quotes = record, "", 0
        if not text.strip():
            continue
        values = next(csv.reader([text.rstrip("\r\n")]), [])
        if header is None:
            header = [h.strip() for h in values]
            if "external_id" not in header:
                raise BadRequest("the CSV header must name external_id (and lat,lon or zip)", field="body")
            continue
        if len(values) > len(header):
            yield start, Malformed(f"{len(values)} values for {len(header)} columns")
            continue
        yield start, {k: v for k, v in zip(header, values, strict=False) if v.strip() != ""}
    if record.strip():
        yield start, Malformed("a quoted value is not closed")


async def json_array_rows(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, object]]:
    decoder = json.JSONDecoder()
    buf, pos, number, state = "", 0, 0, "start"  # start -> item -> sep -> end
    texts = _text(chunks)
    exhausted = False
    while True:
        while pos < len(buf) and buf[pos] in " \t\r\n":
            pos += 1
        if pos >= len(buf) or (state == "item" and not exhausted and len(buf) - pos < 2):
            if exhausted:
                break
            try:
                more = await anext(texts)
            except StopAsyncIteration:
                exhausted = True
                continue
            buf, pos = buf[pos:] + more, 0
            continue
        if state == "start":
            if buf[pos] != "[":
                raise BadRequest("a JSON body must be an array of accounts", field="body")
            pos, state = pos + 1, "item"
        elif state == "sep":
            if buf[pos] == ",":
                pos, state = pos + 1, "item"
            elif buf[pos] == "]":
                pos, state = pos + 1, "end"
            else:
                raise MalformedRequest(f"malformed JSON after element {number}: expected ',' or ']'", field="body")
        elif state == "item":
            if buf[pos] == "]" and number == 0:
                pos, state = pos + 1, "end"
                continue
            try:
                value, end = decoder.raw_decode(buf, pos)
            except ValueError as exc:  # a JSONDecodeError, or the int() of a number too long to read
                if exhausted or len(buf) - pos > MAX_PENDING_CHARS:
                    reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                    raise MalformedRequest(f"malformed JSON in element {number + 1}: {reason}", field="body") from None
                try:
                    more = await anext(texts)
                except StopAsyncIteration:
                    exhausted = True
                    continue
                buf, pos = buf[pos:] + more, 0
                continue
            if end == len(buf) and not exhausted and not isinstance(value, dict | list):
                # A number at the end of the buffer may go on in the next chunk.
                try:
                    buf, pos = buf[pos:] + await anext(texts), 0
                except StopAsyncIteration:
                    exhausted = True
                continue
            number += 1
            pos, state = end, "sep"
            yield number, value
        else:
            raise MalformedRequest("unexpected content after the JSON array", field="body")
    if state != "end":
        raise MalformedRequest("the JSON array is not closed", field="body")


def rows_for(content_type: str, chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, object]]:
    kind = content_type.split(";")[0].strip().lower()
    if kind in ("application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"):
        return ndjson_rows(chunks)
    if kind in ("text/csv", "application/csv"):
        return csv_rows(chunks)
    if kind in ("application/json", ""):
        return json_array_rows(chunks)
    raise BadRequest(
        f"unsupported Content-Type {content_type!r}: use application/json, application/x-ndjson or text/csv",
        field="content-type",
    )
