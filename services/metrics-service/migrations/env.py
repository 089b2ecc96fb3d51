from metrics_service.db.records import Base
from territory_shared.db.alembic_env import run_migrations

run_migrations(Base.metadata)
