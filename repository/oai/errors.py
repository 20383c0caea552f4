"""One exception per OAI-PMH error code (OAI-PMH 3.6), under a common base."""

from __future__ import annotations

from typing import ClassVar


class OAIError(Exception):
    """An OAI-PMH error: sent as ``<error code="...">message</error>`` with HTTP 200 (3.1.2.2)."""

    code: ClassVar[str] = ""
    #: 3.2: for badVerb and badArgument the request element carries no attributes
    echo_arguments: ClassVar[bool] = True


class BadArgument(OAIError):
    """Illegal, missing or repeated argument, or an argument value of illegal syntax."""

    code = "badArgument"
    echo_arguments = False


class BadVerb(OAIError):
    """Missing, repeated or unknown verb."""

    code = "badVerb"
    echo_arguments = False


class BadResumptionToken(OAIError):
    """The resumption token is invalid or expired."""

    code = "badResumptionToken"


class CannotDisseminateFormat(OAIError):
    """The metadata format is not supported by the item or by the repository."""

    code = "cannotDisseminateFormat"


class IdDoesNotExist(OAIError):
    """The identifier is unknown or illegal in this repository."""

    code = "idDoesNotExist"


class NoMetadataFormats(OAIError):
    """The item has no metadata formats."""

    code = "noMetadataFormats"


class NoRecordsMatch(OAIError):
    """The combination of from, until, set and metadataPrefix selects nothing."""

    code = "noRecordsMatch"


class NoSetHierarchy(OAIError):
    """The repository does not support sets."""

    code = "noSetHierarchy"
