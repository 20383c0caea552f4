"""a marc21 payload that is the record's source plus its schema location is stored as NULL

Revision ID: 0004
Revises: 0003

Existing payloads keep their bytes, which stay valid; ``kutubxona rerender`` stores them the new way.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("record_format", schema=None) as batch_op:
        batch_op.alter_column("xml", existing_type=sa.LargeBinary(), nullable=True)


HEAD = '<record xmlns="http://www.loc.gov/MARC21/slim"'
SCHEMA = (
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' xsi:schemaLocation="http://www.loc.gov/MARC21/slim http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd"'
)


def downgrade() -> None:
    # write out the bytes each NULL stood for (formats.payload) before NULL is refused again
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT f.record_id, f.prefix, r.source FROM record_format f JOIN record r ON r.id = f.record_id"
            " WHERE f.xml IS NULL"
        )
    ).all()
    fill = sa.text("UPDATE record_format SET xml = :xml WHERE record_id = :rid AND prefix = :prefix").bindparams(
        sa.bindparam("xml", type_=sa.LargeBinary())
    )
    for rid, prefix, source in rows:
        xml = (HEAD + SCHEMA + source[len(HEAD) :]).encode()
        conn.execute(fill, {"xml": xml, "rid": rid, "prefix": prefix})
    with op.batch_alter_table("record_format", schema=None) as batch_op:
        batch_op.alter_column("xml", existing_type=sa.LargeBinary(), nullable=False)
