"""Who may call each metrics-service route (roles in territory_shared.api.roles).

Reps are refused here: metrics are per territory and alignment, not per rep.
"""

from __future__ import annotations

from territory_shared.api.roles import DESIGNERS, PREVIEWERS, READERS, AccessTable

ACCESS: AccessTable = {
    ("GET", "/v1/territory-count"): READERS,
    ("GET", "/v1/alignments"): READERS,
    ("GET", "/v1/alignments/{alignment_id}/metrics"): READERS,
    ("GET", "/v1/alignments/{alignment_id}/balance"): READERS,
    ("GET", "/v1/alignments/{alignment_id}/market-gap"): READERS,
    ("GET", "/v1/compare"): READERS,
    ("POST", "/v1/alignments/{alignment_id}/what-if"): PREVIEWERS,  # computes, stores nothing
    ("GET", "/v1/alignments/{alignment_id}/trend"): READERS,
    ("GET", "/v1/trend"): READERS,
    ("GET", "/v1/sales-forces/{sales_force}/consistency"): READERS,
    ("GET", "/v1/alerts"): READERS,  # asks assignment-service, changes nothing
    ("PUT", "/v1/sales-forces/{sales_force}/quota-plans/{period}"): DESIGNERS,
    ("GET", "/v1/sales-forces/{sales_force}/quota-plans"): READERS,
    ("GET", "/v1/sales-forces/{sales_force}/quota-plans/{period}"): READERS,
    ("GET", "/v1/sales-forces/{sales_force}/quota-plans/{period}/quotas"): READERS,  # a draft's too: computes only
    ("GET", "/v1/sales-forces/{sales_force}/quota-plans/{period}/quotas.csv"): READERS,
    ("GET", "/v1/sales-forces/{sales_force}/quota-plans/{period}/quotas/compare"): READERS,
}
