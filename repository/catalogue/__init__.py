"""The catalogue: its tables, the write service, the read queries, and the change feed.

Callers use ``from repository import catalogue`` and the names below; the models live in
``catalogue.models``, the OAI-PMH store adapter in ``catalogue.oai_store``.
"""

from repository.catalogue.queries import Version, resolve, versions
from repository.catalogue.sets import SetError, add_set, in_set, set_counts, set_exhibit, set_ids, set_specs
from repository.catalogue.writes import (
    Change,
    State,
    apply,
    archive,
    delete_record,
    ids_of,
    load_states,
    lookup_keys,
    open_files,
    rerender,
    restore_version,
    serialise_writes,
    taken_local_ids,
)

__all__ = [
    "Change",
    "SetError",
    "State",
    "Version",
    "add_set",
    "apply",
    "archive",
    "delete_record",
    "ids_of",
    "in_set",
    "load_states",
    "lookup_keys",
    "open_files",
    "rerender",
    "resolve",
    "restore_version",
    "serialise_writes",
    "set_counts",
    "set_exhibit",
    "set_ids",
    "set_specs",
    "taken_local_ids",
    "versions",
]
