"""Strict parsing of an OAI-PMH request's arguments into an ``OAIRequest``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from repository.oai.errors import BadArgument, BadVerb

# OAI-PMH 4: the arguments each verb takes (R required, O optional, X exclusive)
VERB_ARGUMENTS: dict[str, dict[str, str]] = {
    "Identify": {},
    "ListMetadataFormats": {"identifier": "O"},
    "ListSets": {"resumptionToken": "X"},
    "GetRecord": {"identifier": "R", "metadataPrefix": "R"},
    "ListIdentifiers": {"metadataPrefix": "R", "from": "O", "until": "O", "set": "O", "resumptionToken": "X"},
    "ListRecords": {"metadataPrefix": "R", "from": "O", "until": "O", "set": "O", "resumptionToken": "X"},
}

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# OAI-PMH 3.6: a value of illegal syntax is badArgument (the patterns of OAI-PMH.xsd)
_PREFIX = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+$")
_SET_SPEC = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*$")
_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@dataclass(frozen=True)
class OAIRequest:
    """A request whose arguments passed every syntax rule; ``arguments`` is the echo of 3.2."""

    verb: str
    arguments: dict[str, str]
    identifier: str | None = None
    prefix: str | None = None
    set_spec: str | None = None
    from_: datetime | None = None
    until: datetime | None = None
    token: str | None = None


def parse_request(pairs: Sequence[tuple[str, str]]) -> OAIRequest:
    """Check the verb and arguments (OAI-PMH 3.1.1, 3.3.1, 3.6); raise ``BadVerb`` or ``BadArgument``."""
    verbs = [value for name, value in pairs if name == "verb"]
    if not verbs:
        raise BadVerb("the verb argument is missing")
    if len(verbs) > 1:
        raise BadVerb("the verb argument is repeated")  # 3.6: a repeated verb is badVerb
    verb = verbs[0]
    if verb not in VERB_ARGUMENTS:
        raise BadVerb(f"{verb!r} is not an OAI-PMH verb")  # names are case-sensitive
    allowed = VERB_ARGUMENTS[verb]
    args: dict[str, str] = {}
    for name, value in pairs:
        if name == "verb":
            continue
        if name not in allowed:
            raise BadArgument(f"{verb} does not take the argument {name!r}")
        if name in args:
            raise BadArgument(f"the argument {name!r} is repeated")
        if value == "":
            raise BadArgument(f"the argument {name!r} is empty")
        args[name] = value
    echo = {"verb": verb, **args}
    if "resumptionToken" in args:
        if len(args) > 1:
            # OAI-PMH 3.5: resumptionToken is an exclusive argument
            raise BadArgument("resumptionToken must be the only argument besides verb")
        return OAIRequest(verb, echo, token=args["resumptionToken"])
    missing = [name for name, kind in allowed.items() if kind == "R" and name not in args]
    if missing:
        raise BadArgument(f"{verb} requires the argument {missing[0]!r}")
    if "metadataPrefix" in args and not _PREFIX.match(args["metadataPrefix"]):
        raise BadArgument(f"metadataPrefix={args['metadataPrefix']!r} is not a legal metadata prefix")
    if "set" in args and not _SET_SPEC.match(args["set"]):
        raise BadArgument(f"set={args['set']!r} is not a legal setSpec")
    from_, until = _bounds(args.get("from"), args.get("until"))
    return OAIRequest(
        verb,
        echo,
        identifier=args.get("identifier"),
        prefix=args.get("metadataPrefix"),
        set_spec=args.get("set"),
        from_=from_,
        until=until,
    )


def _parse_date(name: str, value: str) -> tuple[datetime, str]:
    """A UTC datestamp and its granularity (``day`` or ``seconds``); raise ``BadArgument``."""
    try:
        if _DAY.match(value):
            return datetime.strptime(value, "%Y-%m-%d"), "day"
        if _SECONDS.match(value):
            return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ"), "seconds"
    except ValueError:
        pass
    raise BadArgument(f"{name}={value!r} is not YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ")


def _bounds(from_text: str | None, until_text: str | None) -> tuple[datetime | None, datetime | None]:
    """Inclusive datetime bounds (OAI-PMH 2.7.1, 3.3.1); a day ``until`` covers the whole day."""
    from_ = until = None
    grains = []
    if from_text is not None:
        from_, grain = _parse_date("from", from_text)
        grains.append(grain)
    if until_text is not None:
        until, grain = _parse_date("until", until_text)
        grains.append(grain)
        if grain == "day":
            until = until + timedelta(days=1, seconds=-1)
    if len(set(grains)) > 1:
        raise BadArgument("from and until must have the same granularity")
    if from_ is not None and until is not None and from_ > until:
        raise BadArgument("from is later than until")
    return from_, until
