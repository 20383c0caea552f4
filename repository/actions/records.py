"""Actions on records and sets: find, delete, restore a version, create a set, render again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from repository import catalogue
from repository.catalogue.models import Record
from repository.errors import NotFound

if TYPE_CHECKING:
    from repository.services import Services


def find(session: Session, services: Services, ident: str) -> Record:
    """The record named by a local or OAI identifier; ``NotFound`` when there is none."""
    rec = catalogue.resolve(session, services.repository_id, ident)
    if rec is None:
        raise NotFound(f"no record {ident!r}")
    return rec


def delete(services: Services, ident: str, actor: str) -> tuple[str, bool]:
    """Make record ``ident`` a tombstone; returns its local id and False when it already was one."""
    with services.db.transaction() as session:
        rec = find(session, services, ident)
        return rec.local_id, catalogue.delete_record(session, rec, actor=actor)


def restore(services: Services, ident: str, number: int, actor: str) -> str:
    """Bring version ``number`` of record ``ident`` back as a new version; returns its local id."""
    with services.db.transaction() as session:
        rec = find(session, services, ident)
        if not catalogue.restore_version(session, rec, number, services.base_url, actor=actor):
            raise NotFound(f"{rec.local_id} has no version {number}")
        return rec.local_id


def history(services: Services, ident: str) -> list[catalogue.Version]:
    """Every version of record ``ident``, oldest first; the last is the record as it is now."""
    with services.db.reading() as session:
        return catalogue.versions(session, find(session, services, ident))


def add_set(services: Services, spec: str, name: str, description: str | None = None) -> None:
    """Create (or rename) set ``spec`` with its missing ancestors."""
    with services.db.transaction() as session:
        catalogue.add_set(session, spec, name, description)


def rerender(services: Services) -> tuple[int, int]:
    """Render every record's formats again; returns (records seen, records whose bytes changed)."""
    with services.db.transaction() as session:
        return catalogue.rerender(session, services.base_url)
