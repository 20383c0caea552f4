"""files attached to records, their pages of text

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("object_key", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mime", sa.String(length=128), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=False),
        sa.Column("access", sa.String(length=16), nullable=False),
        sa.Column("embargo_until", sa.Date(), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("extraction", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("languages", sa.String(length=64), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"], name=op.f("fk_record_file_record_id_record")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_file")),
    )
    with op.batch_alter_table("record_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_record_file_object_key"), ["object_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_file_record_id"), ["record_id"], unique=False)
        batch_op.create_index("uq_record_file_record_name", ["record_id", "name"], unique=True)

    op.create_table(
        "file_page",
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["file_id"], ["record_file.id"], name=op.f("fk_file_page_file_id_record_file")),
        sa.PrimaryKeyConstraint("file_id", "page", name=op.f("pk_file_page")),
    )


def downgrade() -> None:
    op.drop_table("file_page")
    with op.batch_alter_table("record_file", schema=None) as batch_op:
        batch_op.drop_index("uq_record_file_record_name")
        batch_op.drop_index(batch_op.f("ix_record_file_record_id"))
        batch_op.drop_index(batch_op.f("ix_record_file_object_key"))

    op.drop_table("record_file")
