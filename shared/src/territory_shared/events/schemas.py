"""Generate the JSON Schema of every event contract and an AsyncAPI 3 document listing topics and types.

Run ``python -m territory_shared.events.schemas [out_dir]`` (``make schemas``); the files are committed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from territory_shared.events.contracts import CONTRACTS, topics
from territory_shared.events.envelope import CloudEvent

DEFAULT_OUT = Path(__file__).resolve().parents[3] / "schemas"


def render() -> dict[str, str]:
    """File name -> content, deterministic, so the committed copy can be compared byte for byte."""
    files: dict[str, str] = {}
    files["cloudevent.envelope.json"] = _dump(CloudEvent.model_json_schema())
    for contract in CONTRACTS.values():
        schema = contract.model.model_json_schema()
        schema["$id"] = f"urn:territory:event:{contract.type}"
        schema["x-topic"] = contract.topic
        files[f"{contract.type}.json"] = _dump(schema)
    files["asyncapi.json"] = _dump(_asyncapi())
    return files


def _asyncapi() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in topics():
        messages = {
            c.type.replace(".", "_"): {
                "name": c.type,
                "contentType": "application/cloudevents+json",
                "summary": (c.model.__doc__ or "").strip(),
                "payload": {"$ref": f"./{c.type}.json"},
            }
            for c in CONTRACTS.values()
            if c.topic == topic
        }
        channels[topic] = {"address": topic, "messages": messages}
        producer = next(c.producer for c in CONTRACTS.values() if c.topic == topic)
        operations[f"publish_{topic.replace('.', '_')}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{topic}"},
            "summary": f"Sent by {producer} through its transactional outbox; key = aggregate id",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Territory platform events", "version": "1.0.0"},
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
    }


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True) + "\n"


def write(out_dir: Path = DEFAULT_OUT) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, content in render().items():
        (out_dir / name).write_text(content)


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT)
