"""Roster entries take effect on their dates (when each date was applied); who made each change

Revision ID: 0007
Revises: 0006
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ACTOR = sa.String(length=200)


def upgrade() -> None:
    op.add_column("roster_entries", sa.Column("created_by", ACTOR, nullable=True))
    op.add_column("roster_entries", sa.Column("ended_by", ACTOR, nullable=True))
    op.add_column("roster_entries", sa.Column("start_applied_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("roster_entries", sa.Column("end_applied_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("rule_sets", sa.Column("updated_by", ACTOR, nullable=True))
    op.add_column("overrides", sa.Column("created_by", ACTOR, nullable=True))
    op.add_column("overrides", sa.Column("removed_by", ACTOR, nullable=True))
    op.add_column("assignment_history", sa.Column("changed_by", ACTOR, nullable=True))
    op.add_column("realignment_runs", sa.Column("started_by", ACTOR, nullable=True))
    _mark_dates_applied_then()


def _mark_dates_applied_then() -> None:
    """An entry's date that had come when the entry was written (or ended) was applied then: the write recomputed
    the territory. A date that came later was never applied: left unmarked, the worker applies it on its first
    pass."""
    bind = op.get_bind()
    entries = sa.table(
        "roster_entries",
        sa.column("id", sa.String),
        sa.column("effective_from", sa.Date),
        sa.column("effective_to", sa.Date),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("ended_at", sa.DateTime(timezone=True)),
        sa.column("start_applied_at", sa.DateTime(timezone=True)),
        sa.column("end_applied_at", sa.DateTime(timezone=True)),
    )
    rows = bind.execute(
        sa.select(
            entries.c.id, entries.c.effective_from, entries.c.effective_to, entries.c.created_at, entries.c.ended_at
        )
    ).all()
    for r in rows:
        written = _utc(r.created_at)
        last_write = _utc(r.ended_at) if r.ended_at is not None else written
        values = {}
        if r.effective_from <= written.date():
            values["start_applied_at"] = written
        if r.effective_to is not None and r.effective_to <= last_write.date():
            values["end_applied_at"] = last_write
        if values:
            bind.execute(sa.update(entries).where(entries.c.id == r.id).values(**values))


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def downgrade() -> None:
    for table, column in (
        ("realignment_runs", "started_by"),
        ("assignment_history", "changed_by"),
        ("overrides", "removed_by"),
        ("overrides", "created_by"),
        ("rule_sets", "updated_by"),
        ("roster_entries", "end_applied_at"),
        ("roster_entries", "start_applied_at"),
        ("roster_entries", "ended_by"),
        ("roster_entries", "created_by"),
    ):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
