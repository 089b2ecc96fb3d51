"""Who may call each assignment-service route (roles in territory_shared.api.roles).

Routes open to ``rep`` (OWN_READERS) narrow what they return to the rep named by the caller's token: their own
rep record, and the accounts and assignments that are theirs; anything else is a 404.
"""

from __future__ import annotations

from territory_shared.api.roles import (
    ADMINS,
    CRM_READERS,
    CRM_WRITERS,
    DESIGNERS,
    JOB_READERS,
    OWN_READERS,
    PREVIEWERS,
    AccessTable,
)

ACCESS: AccessTable = {
    ("POST", "/v1/accounts/bulk"): CRM_WRITERS,
    ("POST", "/v1/accounts/bulk-delete"): CRM_WRITERS,
    ("GET", "/v1/accounts"): OWN_READERS,
    ("GET", "/v1/accounts/{external_id}"): OWN_READERS,
    ("GET", "/v1/account-clusters"): CRM_READERS,
    ("DELETE", "/v1/accounts/{external_id}"): CRM_WRITERS,
    ("GET", "/v1/accounts/{external_id}/assignments"): OWN_READERS,
    ("GET", "/v1/accounts/{external_id}/history"): OWN_READERS,
    ("PUT", "/v1/reps/{external_id}"): CRM_WRITERS,
    ("GET", "/v1/reps/{external_id}"): OWN_READERS,
    ("DELETE", "/v1/reps/{external_id}"): CRM_WRITERS,
    ("GET", "/v1/reps"): OWN_READERS,
    ("POST", "/v1/roster-entries"): DESIGNERS,
    ("GET", "/v1/roster-entries"): CRM_READERS,
    ("POST", "/v1/roster-entries/{entry_id}/end"): DESIGNERS,
    ("PUT", "/v1/sales-forces/{sales_force}/rule-set"): DESIGNERS,
    ("GET", "/v1/sales-forces/{sales_force}/rule-set"): CRM_READERS,
    ("PUT", "/v1/sales-forces/{sales_force}/overrides/{account_external_id}"): DESIGNERS,
    ("DELETE", "/v1/sales-forces/{sales_force}/overrides/{account_external_id}"): DESIGNERS,
    ("GET", "/v1/sales-forces/{sales_force}/overrides"): CRM_READERS,
    ("GET", "/v1/sales-forces/{sales_force}/assignments"): OWN_READERS,
    ("GET", "/v1/sales-forces/{sales_force}/assignments.csv"): OWN_READERS,
    ("GET", "/v1/sales-forces/{sales_force}/assignments.xlsx"): OWN_READERS,
    ("GET", "/v1/sales-forces/{sales_force}/owner"): CRM_READERS,
    ("GET", "/v1/sales-forces/{sales_force}/ownership"): CRM_READERS,  # metrics-service's consistency check
    ("POST", "/v1/sales-forces/{sales_force}/ownership/announce"): ADMINS,  # rebuilds projections: an operator's
    ("POST", "/v1/sales-forces/{sales_force}/recompute"): DESIGNERS,
    ("POST", "/v1/realignments/preview"): PREVIEWERS,  # computes a diff, publishes nothing
    ("GET", "/v1/realignments"): CRM_READERS,
    ("GET", "/v1/realignments/{run_id}"): CRM_READERS,
    ("GET", "/v1/realignments/{run_id}/changes"): CRM_READERS,
    ("GET", "/v1/realignments/{run_id}/changes.csv"): CRM_READERS,
    ("POST", "/v1/webhooks"): ADMINS,
    ("GET", "/v1/webhooks"): CRM_READERS,
    ("DELETE", "/v1/webhooks/{webhook_id}"): ADMINS,
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"): CRM_READERS,
    ("POST", "/v1/design-jobs"): DESIGNERS,  # runs the optimizer, writes a draft alignment in geo-service
    ("GET", "/v1/jobs/{job_id}"): JOB_READERS,
    ("POST", "/v1/jobs/{job_id}/cancel"): DESIGNERS,
}
