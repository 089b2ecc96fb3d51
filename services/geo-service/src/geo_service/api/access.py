"""Who may call each geo-service route (roles in territory_shared.api.roles).

Reps are refused here: geo-service knows territories, not which rep holds them (that is assignment-service's
roster), so it cannot cheaply narrow a layer or an alignment to one rep's territories.
"""

from __future__ import annotations

from territory_shared.api.roles import (
    ADMINS,
    DESIGNERS,
    INTEGRATION,
    JOB_READERS,
    PREVIEWERS,
    READERS,
    SERVICE,
    AccessTable,
)

# assignment-service's design jobs write their plan as a draft: checked there against the planner who started the
# job, then done here with its service token.
DRAFT_WRITERS = DESIGNERS | {SERVICE}

ACCESS: AccessTable = {
    ("POST", "/v1/layers"): DESIGNERS,
    ("GET", "/v1/layers"): READERS,
    ("GET", "/v1/layers/{layer_id}"): READERS,
    ("DELETE", "/v1/layers/{layer_id}"): DESIGNERS,
    ("GET", "/v1/layers/{layer_id}/units"): READERS,
    ("GET", "/v1/layers/{layer_id}/units.geojson"): READERS,
    ("GET", "/v1/layers/{layer_id}/tiles/{z}/{x}/{y}.mvt"): READERS,
    ("GET", "/v1/layers/{layer_id}/unit-facts"): READERS,
    ("GET", "/v1/layers/{layer_id}/adjacency"): READERS,
    ("POST", "/v1/alignments"): DRAFT_WRITERS,
    ("GET", "/v1/alignments"): READERS,
    ("GET", "/v1/alignments/{alignment_id}"): READERS,
    ("DELETE", "/v1/alignments/{alignment_id}"): DRAFT_WRITERS,
    ("POST", "/v1/alignments/{alignment_id}/publish"): DESIGNERS,
    ("POST", "/v1/alignments/{alignment_id}/archive"): DESIGNERS,
    ("POST", "/v1/alignments/{alignment_id}/moves"): DESIGNERS,
    ("POST", "/v1/alignments/{alignment_id}/locks"): DRAFT_WRITERS,
    ("POST", "/v1/alignments/{alignment_id}/split"): DESIGNERS,
    ("GET", "/v1/alignments/{alignment_id}/units"): READERS,
    ("GET", "/v1/alignments/{alignment_id}/publish-changes"): READERS,  # assignment-service's preview
    ("GET", "/v1/alignments/{alignment_id}/territories.geojson"): READERS,
    ("GET", "/v1/alignments/{alignment_id}/export.csv"): READERS,
    ("GET", "/v1/alignments/{alignment_id}/export.geojson"): READERS,
    ("PUT", "/v1/alignments/{alignment_id}/assignments.csv"): DRAFT_WRITERS,
    ("GET", "/v1/alignments/{alignment_id}/territories.csv"): READERS,
    ("PUT", "/v1/alignments/{alignment_id}/territories.csv"): DESIGNERS,
    # Approvals: admins set a sales force's policy; planners submit; whoever a level names decides (the use case
    # checks the level's roles and users), so every role a level may name can call approve and reject.
    ("PUT", "/v1/sales-forces/{sales_force}/approval-policy"): ADMINS,
    ("GET", "/v1/sales-forces/{sales_force}/approval-policy"): READERS,
    ("DELETE", "/v1/sales-forces/{sales_force}/approval-policy"): ADMINS,
    ("GET", "/v1/alignments/{alignment_id}/approval"): READERS,
    ("POST", "/v1/alignments/{alignment_id}/submit"): DESIGNERS,
    ("POST", "/v1/alignments/{alignment_id}/approve"): PREVIEWERS,
    ("POST", "/v1/alignments/{alignment_id}/reject"): PREVIEWERS,
    ("POST", "/v1/alignments/{alignment_id}/schedule"): DESIGNERS,
    ("GET", "/v1/schedules"): READERS,
    ("GET", "/v1/schedules/{schedule_id}"): READERS,
    ("POST", "/v1/schedules/{schedule_id}/cancel"): DESIGNERS,
    ("POST", "/v1/territories"): DESIGNERS,
    ("GET", "/v1/territories"): READERS,
    ("GET", "/v1/territories/codes"): READERS,  # assignment-service checks roster and override codes
    ("GET", "/v1/territories/{territory_id}"): READERS,
    ("PATCH", "/v1/territories/{territory_id}"): DESIGNERS,
    ("DELETE", "/v1/territories/{territory_id}"): DESIGNERS,
    # A CRM may ask which territory a location falls in.
    ("GET", "/v1/locate"): READERS | {INTEGRATION},
    ("POST", "/v1/locate"): READERS | {INTEGRATION},
    ("GET", "/v1/jobs/{job_id}"): JOB_READERS,
    ("POST", "/v1/jobs/{job_id}/cancel"): DESIGNERS,
}
