"""What the OAI-PMH core needs to know about the repository it answers for."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OAISettings:
    """Identity of the repository and the limits of its lists."""

    base_url: str  # the OAI base URL, exactly as Identify announces it
    repository_name: str
    repository_id: str  # namespace-identifier of oai:{repository_id}:{local id}
    admin_emails: tuple[str, ...]
    secret_key: str
    page_size: int = 100
    token_ttl_hours: int = 48
    friends: tuple[str, ...] = ()
    compression: tuple[str, ...] = ("gzip", "deflate")
    formats: tuple = field(default=())  # MetadataFormat entries the repository offers
