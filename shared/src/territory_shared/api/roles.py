"""The roles, and the groups of them the services' access tables are written with.

- ``admin``: everything, including API keys.
- ``planner``: designs (layers, alignments, territories, rules, overrides, rosters, the optimizer), publishes;
  reads everything.
- ``manager``: reads everything; previews (realignment previews, what-if); approves or rejects drafts where the
  sales force's approval policy names them; changes nothing else.
- ``integration``: a CRM: upserts and deletes accounts and reps; reads assignments, owners, realignments, webhooks.
- ``rep``: reads only their own rep record and the accounts assigned to them (assignment-service only).
- ``service``: another service of the platform acting for a tenant (reads, lookups, design jobs' drafts); never
  given to people.

Each service's table maps ``(method, route path)`` to the roles that may call it; a route missing from it is
refused to everyone.
"""

from __future__ import annotations

ADMIN, PLANNER, MANAGER, INTEGRATION, REP, SERVICE = "admin", "planner", "manager", "integration", "rep", "service"
ROLES = frozenset({ADMIN, PLANNER, MANAGER, INTEGRATION, REP, SERVICE})

AccessTable = dict[tuple[str, str], frozenset[str]]

ADMINS = frozenset({ADMIN})
DESIGNERS = frozenset({ADMIN, PLANNER})
PREVIEWERS = DESIGNERS | {MANAGER}
READERS = PREVIEWERS | {SERVICE}
CRM_WRITERS = DESIGNERS | {INTEGRATION}
CRM_READERS = READERS | {INTEGRATION}
OWN_READERS = CRM_READERS | {REP}  # a rep is further limited to their own records by the route itself
JOB_READERS = CRM_READERS  # GET /v1/jobs/{job_id}: whoever may start a job, and readers

# Routes every service has, from the shared routers (the jobs router is in the tables of the services using it).
SHARED_ACCESS: AccessTable = {
    ("POST", "/v1/api-keys"): ADMINS,
    ("GET", "/v1/api-keys"): ADMINS,
    ("DELETE", "/v1/api-keys/{key_id}"): ADMINS,
    ("GET", "/v1/audit"): PREVIEWERS,
}
