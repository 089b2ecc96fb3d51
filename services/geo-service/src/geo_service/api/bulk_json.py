"""Big JSON bodies (every unit of a ZIP-level layer, its adjacency) written directly, off the event loop.

FastAPI validates and serialises a response model row by row: for 30,000+ rows that is a second of the one event
loop every other request waits on. These routes keep their response model for the documentation and send this.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Response

from geo_service.layer_payloads import compact_json


async def json_response(body: Any) -> Response:
    return Response(await asyncio.to_thread(compact_json, body), media_type="application/json")
