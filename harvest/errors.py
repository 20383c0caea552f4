"""Harvest errors: one class per OAI-PMH error code under a common base, and transport failures."""

from __future__ import annotations

from typing import ClassVar


class HarvestError(Exception):
    """Anything that stops a harvest; the message says what in one line."""


class TransportError(HarvestError):
    """The source did not answer usefully (HTTP errors, dropped connections) after the retries."""


class TokenLoop(HarvestError):
    """The source sent a resumption token it had sent before, or more pages than any list can have."""


class NotOAI(HarvestError):
    """The answer is not an OAI-PMH response."""


class OAIError(HarvestError):
    """An OAI-PMH error the source reported (OAI-PMH 3.6), whatever its HTTP status."""

    code: ClassVar[str] = ""

    @classmethod
    def for_code(cls, code: str, message: str) -> OAIError:
        """The exception of class ``code`` (an unknown code gets the base class)."""
        for sub in cls.__subclasses__():
            if sub.code == code:
                return sub(message)
        error = cls(message)
        error.code = code  # type: ignore[misc]
        return error


class BadArgument(OAIError):
    code = "badArgument"


class BadResumptionToken(OAIError):
    code = "badResumptionToken"


class BadVerb(OAIError):
    code = "badVerb"


class CannotDisseminateFormat(OAIError):
    code = "cannotDisseminateFormat"


class IdDoesNotExist(OAIError):
    code = "idDoesNotExist"


class NoMetadataFormats(OAIError):
    code = "noMetadataFormats"


class NoRecordsMatch(OAIError):
    code = "noRecordsMatch"


class NoSetHierarchy(OAIError):
    code = "noSetHierarchy"
