"""The one error of text extraction."""


class ExtractionError(Exception):
    """Text could not be extracted; the message says why, in one line."""
