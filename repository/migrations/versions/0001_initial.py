"""initial schema: records, formats, keys, versions, sets, batches

Revision ID: 0001
Revises: (none)
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("object_key", sa.String(length=128), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("syntax", sa.String(length=16), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("started", sa.DateTime(), nullable=False),
        sa.Column("finished", sa.DateTime(), nullable=True),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batch")),
    )
    op.create_table(
        "oai_set",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("spec", sa.String(length=255), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oai_set")),
        sa.UniqueConstraint("spec", name=op.f("uq_oai_set_spec")),
    )
    op.create_table(
        "batch_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("offset", sa.Integer(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.Column("local_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.id"], name=op.f("fk_batch_item_batch_id_import_batch")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_item")),
    )
    with op.batch_alter_table("batch_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batch_item_batch_id"), ["batch_id"], unique=False)

    op.create_table(
        "record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("local_id", sa.String(length=255), nullable=False),
        sa.Column("flavour", sa.String(length=16), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("year", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=64), nullable=False),
        sa.Column("datestamp", sa.DateTime(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("changed", sa.DateTime(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.id"], name=op.f("fk_record_batch_id_import_batch")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record")),
        sa.UniqueConstraint("local_id", name=op.f("uq_record_local_id")),
    )
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.create_index("ix_record_datestamp_id", ["datestamp", "id"], unique=False)

    op.create_table(
        "record_format",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("xml", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"], name=op.f("fk_record_format_record_id_record")),
        sa.PrimaryKeyConstraint("record_id", "prefix", name=op.f("pk_record_format")),
    )
    with op.batch_alter_table("record_format", schema=None) as batch_op:
        batch_op.create_index("ix_record_format_prefix_record", ["prefix", "record_id"], unique=False)

    op.create_table(
        "record_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"], name=op.f("fk_record_key_record_id_record")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_key")),
    )
    with op.batch_alter_table("record_key", schema=None) as batch_op:
        batch_op.create_index("ix_record_key_value_kind", ["value", "kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_key_record_id"), ["record_id"], unique=False)

    op.create_table(
        "record_set",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"], name=op.f("fk_record_set_record_id_record")),
        sa.ForeignKeyConstraint(["set_id"], ["oai_set.id"], name=op.f("fk_record_set_set_id_oai_set")),
        sa.PrimaryKeyConstraint("record_id", "set_id", name=op.f("pk_record_set")),
    )
    with op.batch_alter_table("record_set", schema=None) as batch_op:
        batch_op.create_index("ix_record_set_set_record", ["set_id", "record_id"], unique=False)

    op.create_table(
        "record_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("flavour", sa.String(length=16), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.id"], name=op.f("fk_record_version_batch_id_import_batch")
        ),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"], name=op.f("fk_record_version_record_id_record")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_version")),
    )
    with op.batch_alter_table("record_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_record_version_record_id"), ["record_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("record_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_version_record_id"))

    op.drop_table("record_version")
    with op.batch_alter_table("record_set", schema=None) as batch_op:
        batch_op.drop_index("ix_record_set_set_record")

    op.drop_table("record_set")
    with op.batch_alter_table("record_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_key_record_id"))
        batch_op.drop_index("ix_record_key_value_kind")

    op.drop_table("record_key")
    with op.batch_alter_table("record_format", schema=None) as batch_op:
        batch_op.drop_index("ix_record_format_prefix_record")

    op.drop_table("record_format")
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.drop_index("ix_record_datestamp_id")

    op.drop_table("record")
    with op.batch_alter_table("batch_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batch_item_batch_id"))

    op.drop_table("batch_item")
    op.drop_table("oai_set")
    op.drop_table("import_batch")
