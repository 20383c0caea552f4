"""record_format loses its (prefix, record_id) index: the primary key (record_id, prefix) serves every query

Every query on record_format finds rows by record (the OAI lists' EXISTS and join, deletion on
update); the second index only cost a B-tree insert per payload: 0.35 s and 47 MB per 100,000
imported records on SQLite (bench/import.py), with the OAI lists no slower on SQLite or PostgreSQL
(bench/oai.py).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("record_format", schema=None) as batch_op:
        batch_op.drop_index("ix_record_format_prefix_record")


def downgrade() -> None:
    with op.batch_alter_table("record_format", schema=None) as batch_op:
        batch_op.create_index("ix_record_format_prefix_record", ["prefix", "record_id"], unique=False)
