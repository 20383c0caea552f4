"""Harvest errors: one class per OAI-PMH error code under a common base, and transport failures."""

from __future__ import annotations

from typing import ClassVar


class HarvestError(Exception):
    """Anything that stops a harvest; the message says what in one line."""


class TransportError(HarvestError):
    """The source did not answer usefully (HTTP errors, dropped connections) after the retries."""


class TooLarge(HarvestError):
    """A response grew past the size a page may have (a gzip bomb, a runaway server)."""


class AddressRefused(HarvestError):
    """The source is at an address that is not public (loopback, private, link-local...), which the
    client was not allowed to reach: a harvest must not become a way into the network it runs in."""


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
    """The source says our request had an illegal, missing or repeated argument."""

    code = "badArgument"


class BadResumptionToken(OAIError):
    """The source no longer accepts the resumption token (expired or unknown)."""

    code = "badResumptionToken"


class BadVerb(OAIError):
    """The source does not know the verb."""

    code = "badVerb"


class CannotDisseminateFormat(OAIError):
    """The source does not have the metadata format asked for."""

    code = "cannotDisseminateFormat"


class IdDoesNotExist(OAIError):
    """The source has no such identifier."""

    code = "idDoesNotExist"


class NoMetadataFormats(OAIError):
    """The source has no metadata formats for the item."""

    code = "noMetadataFormats"


class NoRecordsMatch(OAIError):
    """Nothing matches: for a list, an empty result rather than a failure."""

    code = "noRecordsMatch"


class NoSetHierarchy(OAIError):
    """The source has no sets."""

    code = "noSetHierarchy"
