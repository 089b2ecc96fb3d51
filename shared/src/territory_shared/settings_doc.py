"""The configuration reference of docs/operations.md, generated from the settings classes.

``python -m territory_shared.settings_doc`` rewrites the part of docs/operations.md between the
``<!-- settings:begin -->`` and ``<!-- settings:end -->`` markers; ``--check`` only says whether it is current
(a test runs it). The service classes are named by import path so that shared never imports a service.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from territory_shared.settings import AuthSettings, ServiceSettings

SERVICE_SETTINGS = (
    "geo_service.settings:GeoSettings",
    "assignment_service.settings:AssignmentSettings",
    "metrics_service.settings:MetricsSettings",
)
BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"
DEFAULT_DOC = Path(__file__).resolve().parents[3] / "docs" / "operations.md"
# Set by the process, not read from the environment: never listed.
INTERNAL = {"service_name", "auth"}  # auth: its own unprefixed table below
# Meanings of the fields whose Field() has no description yet (a field's own description wins).
MEANINGS = {
    "bus_kind": "`kafka` in the distributed mode; `inprocess` is the embedded mode's SQLite event log",
    "kafka_bootstrap_servers": "The Kafka brokers, comma separated",
    "kafka_topic_partitions": "Partitions of a topic the service creates because it is missing",
    "inprocess_bus_path": "The embedded mode's event log (SQLite file)",
    "consumer_retry_backoff_s": "First delay between handler tries; doubles each try",
    "relay_batch_size": "Outbox rows the relay sends per batch",
    "relay_idle_wait_s": "How often an idle relay looks for new outbox rows",
    "run_migrations_on_start": "Run Alembic migrations before serving (the migrate job does it otherwise)",
    "log_level": "Python log level",
    "log_json": "JSON log lines with a correlation id (else plain text)",
    "geo_timeout_s": "Timeout of calls to geo-service",
    "webhook_max_backoff_s": "Longest delay between webhook delivery tries",
    "http_timeout_s": "Timeout of calls to the other services",
}


def _load(path: str) -> type[ServiceSettings]:
    module, _, name = path.partition(":")
    settings: type[ServiceSettings] = getattr(importlib.import_module(module), name)
    return settings


def _default(field: FieldInfo) -> str:
    value = field.get_default(call_default_factory=True) if field.default is PydanticUndefined else field.default
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, list):
        return f"`{json.dumps(value)}`"
    return f"`{value}`" if value != "" else "empty"


def _type(field: FieldInfo) -> str:
    text = str(field.annotation).replace("typing.", "").replace("<class '", "").replace("'>", "")
    text = text.replace("pydantic.types.SecretStr", "secret")
    return text.replace(" | None", ", optional").replace("|", " or ")


def _row(name: str, field_name: str, field: FieldInfo) -> str:
    description = (field.description or MEANINGS.get(field_name, "")).replace("|", "\\|")
    return f"| `{name}` | {_type(field)} | {_default(field)} | {description} |"


def render(classes: tuple[str, ...] = SERVICE_SETTINGS) -> str:
    common = ServiceSettings.model_fields
    lines = [
        "Every variable carries its service's prefix (`GEO_`, `ASSIGNMENT_`, `METRICS_`). These apply to every service",
        "(the default shown is the shared one; each service defaults `DATABASE_URL` to its own SQLite file):",
        "",
        "| variable (after the prefix) | type | default | meaning |",
        "|---|---|---|---|",
    ]
    lines += [_row(name.upper(), name, f) for name, f in common.items() if name not in INTERNAL]
    lines += [
        "",
        "Authentication is one trust domain for every service: these variables have no service prefix (see",
        "[access.md](access.md)):",
        "",
        "| variable | type | default | meaning |",
        "|---|---|---|---|",
    ]
    lines += [_row("AUTH_" + name.upper(), name, f) for name, f in AuthSettings.model_fields.items()]
    for path in classes:
        cls = _load(path)
        prefix = str(cls.model_config.get("env_prefix", ""))
        own = {n: f for n, f in cls.model_fields.items() if n not in common and n not in INTERNAL}
        lines += ["", f"{cls.__name__} (`{prefix}`), its own settings:", ""]
        if not own:
            lines.append("none besides the common ones.")
            continue
        lines += ["| variable | type | default | meaning |", "|---|---|---|---|"]
        lines += [_row(prefix + name.upper(), name, f) for name, f in own.items()]
    return "\n".join(lines)


def updated(document: str, table: str) -> str:
    head, _, rest = document.partition(BEGIN)
    _, _, tail = rest.partition(END)
    if not rest or not tail and END not in rest:
        raise ValueError(f"the document has no {BEGIN} ... {END} section")
    return f"{head}{BEGIN}\n{table}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--doc", type=Path, default=DEFAULT_DOC)
    parser.add_argument("--check", action="store_true", help="exit 1 if the document is not current")
    args = parser.parse_args(argv)
    current = args.doc.read_text()
    wanted = updated(current, render())
    if args.check:
        if wanted != current:
            print(f"{args.doc} is stale: run python -m territory_shared.settings_doc", file=sys.stderr)
            return 1
        return 0
    args.doc.write_text(wanted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
