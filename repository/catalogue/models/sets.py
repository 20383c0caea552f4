"""OAI-PMH sets, the records' membership of them, and the curated exhibitions sets can carry."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from repository.db import Base


class OAISet(Base):
    """A set of records; ``a:b:c`` is a child of ``a:b`` (OAI-PMH 2.6)."""

    __tablename__ = "oai_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    spec: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    # a virtual exhibition: an introduction (paragraphs split by blank lines) and a cover image
    introduction: Mapped[str | None] = mapped_column(Text)
    cover_key: Mapped[str | None] = mapped_column(String(64))  # sha256 of the image in the object store
    cover_type: Mapped[str | None] = mapped_column(String(128))


class RecordSet(Base):
    """Direct membership of a record in a set (ancestors are implied, OAI-PMH 2.7.2)."""

    __tablename__ = "record_set"

    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("oai_set.id"), primary_key=True)

    __table_args__ = (Index("ix_record_set_set_record", "set_id", "record_id"),)


class ExhibitItem(Base):
    """A record shown in a set's exhibition, at ``position`` (from 1), with an optional caption."""

    __tablename__ = "exhibit_item"

    set_id: Mapped[int] = mapped_column(ForeignKey("oai_set.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"))
    caption: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("uq_exhibit_item_set_record", "set_id", "record_id", unique=True),)
