"""Every operation the three services offer, read from their OpenAPI documents, and how to call each one.

The access tests walk this list, so a new endpoint is in them the day it is added. A write that needs a body to
reach its handler gets one from ``BODIES``; a new one without a body fails the isolation test until given one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from territory_shared.api.auth import OPEN_PATHS

# Parameters whose values the server generates: another tenant naming one of them must get 404 (or 403).
GENERATED = {
    "layer_id",
    "alignment_id",
    "territory_id",
    "job_id",
    "entry_id",
    "run_id",
    "webhook_id",
    "key_id",
    "a",
    "b",
}
CSV = "text/csv"
WAKE, DURHAM = "37183", "37063"  # two NC counties, Raleigh's and Durham's


@dataclass(frozen=True)
class Operation:
    service: str
    method: str
    path: str  # as the service declares it, e.g. /v1/layers/{layer_id}
    spec: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.service} {self.method} {self.path}"

    def parameters(self, where: str) -> list[str]:
        return [p["name"] for p in self.spec.get("parameters", []) if p["in"] == where]

    def request(self, ids: dict[str, str], *, with_body: bool = True) -> dict[str, Any]:
        """URL, query and body of this operation aimed at the resources named by ``ids``."""
        values = {name: ids.get(f"{self.service}:{name}", ids.get(name, "00000000-0000-4000-8000-000000000000"))
                  for name in self.parameters("path")}  # fmt: skip
        url = f"/{self.service}{self.path.format(**values)}"
        query = {n: ids[n] for n in self.parameters("query") if n in ids}
        call: dict[str, Any] = {"method": self.method, "url": url, "params": query, "headers": {"If-Match": '"1"'}}
        body = BODIES.get((self.method, self.path)) if with_body else None
        if callable(body):
            body = body(ids)
        if isinstance(body, str):
            call["content"], call["headers"]["content-type"] = body, CSV
        elif body is not None:
            call["json"] = body
        return call

    def names_a_generated_id_in_its_path(self) -> bool:
        return bool(set(self.parameters("path")) & GENERATED)


def operations(services: dict[str, FastAPI]) -> list[Operation]:
    out = []
    for service, app in services.items():
        for path, item in app.openapi()["paths"].items():
            if path in OPEN_PATHS:
                continue
            for method, spec in item.items():
                out.append(Operation(service, method.upper(), path, spec))
    return out


# Bodies that reach the handler, naming tenant A's resources where the operation takes one.
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/v1/api-keys"): {"name": "other tenant's key"},
    ("POST", "/v1/alignments"): lambda ids: {"name": "copy", "sales_force": "field", "copy_from": ids["alignment_id"]},
    ("POST", "/v1/alignments/{alignment_id}/moves"): lambda ids: {
        "unit_ids": [WAKE],
        "territory_id": ids["territory_id"],
    },
    ("POST", "/v1/alignments/{alignment_id}/locks"): {"unit_ids": [WAKE, DURHAM]},
    ("POST", "/v1/alignments/{alignment_id}/split"): lambda ids: {"unit_ids": [WAKE], "into_layer": ids["layer_id"]},
    ("PUT", "/v1/alignments/{alignment_id}/assignments.csv"): f"unit_id,territory_code\n{WAKE},T2\n",
    ("PUT", "/v1/alignments/{alignment_id}/territories.csv"): "code,name,parent_code,colour\nT2,renamed,,\n",
    ("PUT", "/v1/sales-forces/{sales_force}/approval-policy"): {"levels": [{"name": "VP", "roles": ["manager"]}]},
    ("POST", "/v1/alignments/{alignment_id}/reject"): {"comment": "rejected by another tenant"},
    ("POST", "/v1/alignments/{alignment_id}/schedule"): {"effective_at": "2031-01-06T08:00:00", "time_zone": "UTC"},
    ("PUT", "/v1/sales-forces/{sales_force}/quota-plans/{period}"): {
        "goal": 1000,
        "starts_on": "2027-01-01",
        "ends_on": "2027-12-31",
        "method": "potential",
    },
    ("POST", "/v1/territories"): lambda ids: {"code": "TB", "name": "b", "alignment_id": ids["alignment_id"]},
    ("PATCH", "/v1/territories/{territory_id}"): {"name": "renamed by another tenant"},
    ("POST", "/v1/accounts/bulk"): [{"external_id": "ACC-A1", "name": "another tenant's", "lon": -78.6, "lat": 35.8}],
    ("POST", "/v1/accounts/bulk-delete"): {"external_ids": ["ACC-A1", "ACC-A2"]},
    ("PUT", "/v1/reps/{external_id}"): {"name": "another tenant's rep"},
    ("POST", "/v1/roster-entries"): {"sales_force": "field", "territory_code": "T1", "rep_external_id": "REP-A"},
    ("PUT", "/v1/sales-forces/{sales_force}/rule-set"): {"rules": []},
    ("PUT", "/v1/sales-forces/{sales_force}/overrides/{account_external_id}"): {"territory_code": "T1"},
    ("POST", "/v1/webhooks"): {"url": "http://127.0.0.1:9/other"},
    ("POST", "/v1/alignments/{alignment_id}/what-if"): lambda ids: {
        "moves": [{"unit_ids": [WAKE], "territory_id": ids["territory_id"]}]
    },
}
# Writes whose body is a file upload: another tenant's upload is its own, and names nothing of A's.
UPLOADS = {("POST", "/v1/layers")}
