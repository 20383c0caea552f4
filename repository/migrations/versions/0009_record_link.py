"""record_link: the host item of an article or a part (MARC 21 773, UNIMARC 461/463)

One row per match key of the host (control number, ISSN, ISBN), resolved through ``record_key``
when read, so that records may arrive in any order.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("part", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"], name=op.f("fk_record_link_record_id_record")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_link")),
    )
    op.create_index(op.f("ix_record_link_record_id"), "record_link", ["record_id"], unique=False)
    op.create_index("ix_record_link_value_kind", "record_link", ["value", "kind"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_record_link_value_kind", table_name="record_link")
    op.drop_index(op.f("ix_record_link_record_id"), table_name="record_link")
    op.drop_table("record_link")
