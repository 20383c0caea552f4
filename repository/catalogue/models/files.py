"""Files attached to records, and the text of their pages."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from repository.db import Base


class RecordFile(Base):
    """A file attached to a record: a content-addressed object, its access level and its text."""

    __tablename__ = "record_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))  # unique per record; the download URL's last part
    object_key: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of the bytes
    size: Mapped[int] = mapped_column(BigInteger)
    mime: Mapped[str] = mapped_column(String(128))  # from the bytes, not the name
    sha256: Mapped[str] = mapped_column(String(64))
    md5: Mapped[str] = mapped_column(String(32))
    access: Mapped[str] = mapped_column(String(16), default="open")  # open, restricted, embargo
    embargo_until: Mapped[date | None] = mapped_column(Date)
    created: Mapped[datetime] = mapped_column(DateTime)
    # full text: pending, done, failed, none (a file with no text to find, e.g. audio)
    extraction: Mapped[str] = mapped_column(String(16), default="pending")
    method: Mapped[str] = mapped_column(String(16), default="")  # pdftotext, pypdf, ocr
    message: Mapped[str] = mapped_column(Text, default="")  # why extraction failed
    languages: Mapped[str] = mapped_column(String(64), default="")  # OCR languages, e.g. uzb+rus
    confidence: Mapped[float | None] = mapped_column(Float)  # mean OCR word confidence, 0-100

    __table_args__ = (Index("uq_record_file_record_name", "record_id", "name", unique=True),)


class FilePage(Base):
    """The text of one page of a file (a PDF page, a scan)."""

    __tablename__ = "file_page"

    file_id: Mapped[int] = mapped_column(ForeignKey("record_file.id"), primary_key=True)
    page: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1-based
    text: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float)
