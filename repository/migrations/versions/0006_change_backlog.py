"""change_backlog: the changes a subscriber of the catalogue's change feed failed to take

A subscriber (the search index first) that fails never rolls back or blocks the catalogue; the
record ids it missed wait here and are sent again on its next delivery.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_backlog",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("noted", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_backlog")),
    )
    op.create_index("ix_change_backlog_subscriber_id", "change_backlog", ["subscriber", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_change_backlog_subscriber_id", table_name="change_backlog")
    op.drop_table("change_backlog")
