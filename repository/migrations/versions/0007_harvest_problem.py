"""harvest_problem: harvested records that could not be read, kept to be read again

A record a source sends that we cannot read (unknown metadata, broken XML) is kept with its
identifier, raw bytes and reason, shown by ``harvest status NAME --json``, and asked for again
(GetRecord) at the start of the next run.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "harvest_problem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["harvest_source.id"], name=op.f("fk_harvest_problem_source_id_harvest_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_problem")),
    )
    op.create_index(op.f("ix_harvest_problem_source_id"), "harvest_problem", ["source_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_harvest_problem_source_id"), table_name="harvest_problem")
    op.drop_table("harvest_problem")
