"""harvest sources; about containers on records

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "harvest_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=False),
        sa.Column("prefix", sa.String(length=64), nullable=False),
        sa.Column("sets", sa.Text(), nullable=False),
        sa.Column("granularity", sa.String(length=32), nullable=False),
        sa.Column("last_response_date", sa.String(length=32), nullable=True),
        sa.Column("last_finished", sa.DateTime(), nullable=True),
        sa.Column("run_from", sa.String(length=32), nullable=True),
        sa.Column("run_set_index", sa.Integer(), nullable=False),
        sa.Column("run_token", sa.Text(), nullable=True),
        sa.Column("run_response_date", sa.String(length=32), nullable=True),
        sa.Column("run_full", sa.Boolean(), nullable=False),
        sa.Column("run_started", sa.DateTime(), nullable=True),
        sa.Column("run_records", sa.Integer(), nullable=False),
        sa.Column("run_deleted", sa.Integer(), nullable=False),
        sa.Column("run_set_aside", sa.Integer(), nullable=False),
        sa.Column("run_pages", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_source")),
        sa.UniqueConstraint("name", name=op.f("uq_harvest_source_name")),
    )
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("about", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.drop_column("about")

    op.drop_table("harvest_source")
