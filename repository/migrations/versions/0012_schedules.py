"""schedule: jobs that come back (a source's harvest, the daily embargo release)

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("arguments", sa.Text(), nullable=False),
        sa.Column("daily_at", sa.String(length=5), nullable=True),
        sa.Column("every_minutes", sa.Integer(), nullable=True),
        sa.Column("next_run", sa.DateTime(), nullable=False),
        sa.Column("last_job", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule")),
        sa.UniqueConstraint("name", name=op.f("uq_schedule_name")),
    )


def downgrade() -> None:
    op.drop_table("schedule")
