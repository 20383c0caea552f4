"""The one error of text extraction."""

from repository.errors import KutubxonaError


class ExtractionError(KutubxonaError):
    """Text could not be extracted; the message says why, in one line."""
