"""The catalogue's tables, one module per subject; importing this package registers them all."""

from repository.catalogue.models.batches import BatchItem, ImportBatch
from repository.catalogue.models.files import FilePage, RecordFile
from repository.catalogue.models.harvest import HarvestProblem, HarvestSource
from repository.catalogue.models.jobs import Job, Schedule
from repository.catalogue.models.records import (
    ChangeBacklog,
    Record,
    RecordFormat,
    RecordKey,
    RecordLink,
    RecordVersion,
    utcnow,
)
from repository.catalogue.models.sets import ExhibitItem, OAISet, RecordSet

__all__ = [
    "BatchItem",
    "ChangeBacklog",
    "ExhibitItem",
    "FilePage",
    "HarvestProblem",
    "HarvestSource",
    "ImportBatch",
    "Job",
    "OAISet",
    "Record",
    "RecordFile",
    "RecordFormat",
    "RecordKey",
    "RecordLink",
    "RecordSet",
    "RecordVersion",
    "Schedule",
    "utcnow",
]
