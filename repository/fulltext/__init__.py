"""Full text of attached files: PDF text layers (pdftotext, pypdf) and OCR of scans (tesseract)."""

from repository.fulltext.extract import Extraction, ExtractionError, extract

__all__ = ["Extraction", "ExtractionError", "extract"]
