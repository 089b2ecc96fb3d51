"""Approval of drafts before they are published, per sales force.

A sales force's policy names one or more levels, each approved by roles or named users. A draft is submitted
(a round starts), then approved level by level, in order; a rejection (with a comment) ends the round and the
planner may edit and submit again. Every step records the alignment version it is about: an approval holds for
that version only, so a draft edited after its submission or approval must be submitted again.

The state is never stored: it is read from the policy and the steps, so it cannot drift from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from territory_shared.errors import Conflict, Forbidden

# Decisions (steps) and states.
SUBMITTED, APPROVED, REJECTED, OVERRIDDEN = "submitted", "approved", "rejected", "overridden"
NOT_REQUIRED, NOT_SUBMITTED, PENDING = "not_required", "not_submitted", "pending"
# The roles an approver may be chosen by: those that can call approve and reject.
APPROVER_ROLES = ("admin", "planner", "manager")


@dataclass(frozen=True)
class ApprovalLevel:
    name: str
    roles: tuple[str, ...] = ()
    users: tuple[str, ...] = ()

    def admits(self, actor: str, roles: frozenset[str]) -> bool:
        """A caller qualifies when it is one of the named users or holds one of the roles."""
        return actor in self.users or bool(roles & set(self.roles))


@dataclass
class ApprovalPolicy:
    tenant_id: str
    sales_force: str
    levels: list[ApprovalLevel]
    allow_self_approval: bool
    version: int
    updated_by: str
    updated_at: datetime

    @classmethod
    def new(
        cls, tenant_id: str, sales_force: str, levels: list[ApprovalLevel], allow_self_approval: bool, by: str
    ) -> ApprovalPolicy:
        return cls(tenant_id, sales_force, levels, allow_self_approval, 1, by, datetime.now(UTC))

    def replace(self, levels: list[ApprovalLevel], allow_self_approval: bool, by: str) -> None:
        self.levels, self.allow_self_approval = levels, allow_self_approval
        self.version += 1
        self.updated_by, self.updated_at = by, datetime.now(UTC)


@dataclass(frozen=True)
class ApprovalStep:
    seq: int  # the step's place among the alignment's steps: two concurrent decisions cannot take the same one
    level: int | None  # 1-based; None for a submission or an override
    decision: str
    by: str
    comment: str | None
    at: datetime
    version: int  # the alignment version the step is about


@dataclass
class ApprovalStatus:
    """Where a draft stands: ``state`` for ``version``; ``current_level`` (1-based) while pending."""

    required: bool
    state: str
    version: int
    current_level: int | None = None
    submitted_by: str | None = None
    steps: list[ApprovalStep] = field(default_factory=list)

    @property
    def approved(self) -> bool:
        return self.state == APPROVED


def approval_status(
    policy: ApprovalPolicy | None, steps: Sequence[ApprovalStep], alignment_version: int, *, draft: bool
) -> ApprovalStatus:
    """The state of the latest round. For a draft, a round about an older version no longer counts (it was
    edited since); a published or archived alignment keeps the state its last round reached."""
    ordered = sorted(steps, key=lambda s: s.seq)
    if policy is None:
        return ApprovalStatus(False, NOT_REQUIRED, alignment_version, steps=ordered)
    submissions = [i for i, s in enumerate(ordered) if s.decision == SUBMITTED]
    if not submissions:
        return ApprovalStatus(True, NOT_SUBMITTED, alignment_version, steps=ordered)
    start = submissions[-1]
    submitted = ordered[start]
    if draft and submitted.version != alignment_version:
        return ApprovalStatus(True, NOT_SUBMITTED, alignment_version, steps=ordered)
    approvals = 0
    for step in ordered[start + 1 :]:
        if step.decision == REJECTED:
            return ApprovalStatus(True, REJECTED, submitted.version, submitted_by=submitted.by, steps=ordered)
        if step.decision == APPROVED:
            approvals += 1
    if approvals >= len(policy.levels):
        return ApprovalStatus(True, APPROVED, submitted.version, submitted_by=submitted.by, steps=ordered)
    return ApprovalStatus(
        True, PENDING, submitted.version, current_level=approvals + 1, submitted_by=submitted.by, steps=ordered
    )


def submission(status: ApprovalStatus, *, by: str, comment: str | None, version: int) -> ApprovalStep:
    """The step that starts a round; refused while one is pending or once the version is approved."""
    if not status.required:
        raise Conflict(
            "This sales force has no approval policy: its drafts need no approval and are published directly.",
            approval_state=status.state,
        )
    if status.state in (PENDING, APPROVED):
        raise Conflict(
            f"Version {status.version} is already {status.state}: a draft is submitted again only after a "
            "rejection or an edit.",
            approval_state=status.state,
        )
    return _step(SUBMITTED, None, by, comment, version, status)


def decide(
    status: ApprovalStatus,
    policy: ApprovalPolicy,
    *,
    decision: str,
    by: str,
    roles: frozenset[str],
    comment: str | None,
) -> ApprovalStep:
    """An approval or rejection at the current level by ``by``; refused when nothing is pending (409), when the
    caller does not qualify at the level (403) or approves its own submission against the policy (403)."""
    if status.state != PENDING or status.current_level is None:
        raise Conflict(
            f"There is no pending approval to decide: the draft is {status.state} at version {status.version}.",
            approval_state=status.state,
        )
    level = policy.levels[status.current_level - 1]
    if not level.admits(by, roles):
        raise Forbidden(
            f"Level {status.current_level} ({level.name}) is decided by {_who(level)}; {by} is none of them.",
            level=status.current_level,
        )
    if decision == APPROVED and by == status.submitted_by and not policy.allow_self_approval:
        raise Forbidden(
            f"{by} submitted this draft and the policy does not allow self-approval: another approver must approve it.",
            level=status.current_level,
        )
    return _step(decision, status.current_level, by, comment, status.version, status)


def override(status: ApprovalStatus, *, by: str, version: int) -> ApprovalStep:
    return _step(OVERRIDDEN, None, by, None, version, status)


def _step(
    decision: str, level: int | None, by: str, comment: str | None, version: int, status: ApprovalStatus
) -> ApprovalStep:
    seq = max((s.seq for s in status.steps), default=0) + 1
    return ApprovalStep(seq, level, decision, by, comment, datetime.now(UTC), version)


def _who(level: ApprovalLevel) -> str:
    parts = []
    if level.roles:
        parts.append("the roles " + ", ".join(level.roles))
    if level.users:
        parts.append("the users " + ", ".join(level.users))
    return " or ".join(parts)
