"""exhibitions: a set's introduction and cover image, and its curated, ordered items

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oai_set") as batch:
        batch.add_column(sa.Column("introduction", sa.Text(), nullable=True))
        batch.add_column(sa.Column("cover_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("cover_type", sa.String(length=128), nullable=True))
    op.create_table(
        "exhibit_item",
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("caption", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"], name=op.f("fk_exhibit_item_record_id_record")),
        sa.ForeignKeyConstraint(["set_id"], ["oai_set.id"], name=op.f("fk_exhibit_item_set_id_oai_set")),
        sa.PrimaryKeyConstraint("set_id", "position", name=op.f("pk_exhibit_item")),
    )
    op.create_index("uq_exhibit_item_set_record", "exhibit_item", ["set_id", "record_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_exhibit_item_set_record", table_name="exhibit_item")
    op.drop_table("exhibit_item")
    with op.batch_alter_table("oai_set") as batch:
        batch.drop_column("cover_type")
        batch.drop_column("cover_key")
        batch.drop_column("introduction")
