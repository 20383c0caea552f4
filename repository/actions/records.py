"""Actions on records and sets: find, delete, restore a version, create a set, render again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from repository import catalogue
from repository.catalogue import queries
from repository.catalogue.models import Record
from repository.errors import NotFound
from repository.metadata import dc as dcmod
from repository.metadata.citations import Citation, citation
from repository.metadata.formats import FORMATS, Prepared, file_url, prepare_source
from repository.metadata.identifiers import oai_identifier, record_path
from repository.metadata.marc import to_marc_in_json

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


class Gone(NotFound):
    """A record that was deleted: its tombstone is kept, its description is not shown."""

    http_status = 410

    def __init__(self, message: str, local_id: str) -> None:
        super().__init__(message)
        self.local_id = local_id


def public_view(services: Services, ident: str) -> dict:
    """What the public may read of a record (named by its local or OAI identifier), as its page shows it:
    its description (DC, MARC-in-JSON), its files open to the public in full and how many others it has
    (``closed_files``: restricted or under embargo, never named), its hosts and parts."""
    return public_record(services, ident)[0]


def public_record(services: Services, ident: str) -> tuple[dict, Prepared]:
    """``public_view`` and the prepared record it was read from (for pages that show more of it)."""
    with services.db.reading() as session:
        rec = _live(session, services, ident)
        specs = catalogue.set_specs(session, rec.id)
        files = queries.files_of(session, rec.id)
        hosts = queries.hosts_of(session, [rec.id]).get(rec.id, [])
        parts = queries.parts_of(session, rec.id)
    prepared = prepare_source(rec.flavour, rec.source)
    view = {
        "id": rec.local_id,
        "oai_identifier": oai_identifier(services.repository_id, rec.local_id),
        "url": services.base_url + record_path(rec.local_id),
        "flavour": rec.flavour,
        "type": rec.kind,
        "title": rec.title,
        "year": rec.year,
        "datestamp": rec.datestamp.isoformat() + "Z",
        "sets": specs,
        "formats": [f.prefix for f in FORMATS.values() if rec.flavour in f.flavours],
        "dc": {name: prepared.dc.get(name) for name in dcmod.ELEMENTS if prepared.dc and prepared.dc.get(name)},
        "marc": to_marc_in_json(prepared.marc) if prepared.marc is not None else None,
        # a file not open to the public is only counted: its name, size and type are not the public's
        "files": [
            {
                "name": f.name,
                "size": f.size,
                "mime": f.mime,
                "access": f.access,
                "url": file_url(services.base_url, rec.local_id, f.name),
            }
            for f in files
            if queries.is_public(f)
        ],  # fmt: skip
        "closed_files": sum(not queries.is_public(f) for f in files),
        "hosts": [h.as_json() for h in hosts],
        "parts": [{"id": p.local_id, "title": p.title, "year": p.year, "part": part} for p, part in parts],
    }
    return view, prepared


def _live(session: Session, services: Services, ident: str) -> Record:
    rec = find(session, services, ident)
    if rec.deleted:
        raise Gone(f"record {ident!r} was deleted", rec.local_id)
    return rec


def live_id(services: Services, ident: str) -> str:
    """The local identifier of a live record named either way (``NotFound``, or ``Gone`` when it was deleted)."""
    with services.db.reading() as session:
        return _live(session, services, ident).local_id


def permanent_url(services: Services, ident: str) -> str:
    """The permanent address of a live record (``NotFound``, or ``Gone`` when it was deleted)."""
    return services.base_url + record_path(live_id(services, ident))


def citations(services: Services, local_ids: list[str]) -> list[Citation]:
    """The citations of these records, in this order; unknown and deleted ones are left out."""
    with services.db.reading() as session:
        found = {r.local_id: r for r in session.scalars(select(Record).where(Record.local_id.in_(local_ids)))}
        hosts_by_record = queries.hosts_of(session, [r.id for r in found.values()])
    out = []
    for rec in (found.get(i) for i in local_ids):
        if rec is None or rec.deleted:
            continue
        hosts = [h.as_json() for h in hosts_by_record.get(rec.id, [])]
        prepared = prepare_source(rec.flavour, rec.source)
        out.append(cite(prepared, rec.local_id, rec.kind, services.base_url + record_path(rec.local_id), hosts))
    return out


def cite(prepared: Prepared, local_id: str, kind: str, url: str, hosts: list[dict]) -> Citation:
    """A record's citation; its journal is its first host as the catalogue resolved it (``Host.as_json``)."""
    host = hosts[0] if hosts else None
    return citation(prepared, local_id, kind, url, (host["title"], host["part"]) if host else None)
