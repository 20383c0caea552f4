"""import_batch knows who runs it; batch_item.offset is 64-bit

A batch records its host, process id and the time of its last commit, so that one whose process
was killed shows as interrupted.  ``batch_item.offset`` becomes BIGINT: the records of an ISO 2709
file over 2 GiB have offsets past 2**31 (PostgreSQL's INTEGER; SQLite's is 64-bit already).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE: a batch (copy-and-swap) rebuild of import_batch would trip SQLite's foreign keys
    op.add_column("import_batch", sa.Column("host", sa.String(length=255), nullable=False, server_default=""))
    op.add_column("import_batch", sa.Column("pid", sa.Integer(), nullable=True))
    op.add_column("import_batch", sa.Column("heartbeat", sa.DateTime(), nullable=True))
    if op.get_bind().dialect.name != "sqlite":  # SQLite's INTEGER is 64-bit whatever it is called
        op.alter_column("import_batch", "host", server_default=None)
        op.alter_column("batch_item", "offset", existing_type=sa.Integer(), type_=sa.BigInteger())


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("batch_item", "offset", existing_type=sa.BigInteger(), type_=sa.Integer())
    op.drop_column("import_batch", "heartbeat")
    op.drop_column("import_batch", "pid")
    op.drop_column("import_batch", "host")
