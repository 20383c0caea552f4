"""The catalogue's change feed: committed changes reach subscribers; a failing one blocks nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from repository import catalogue
from repository.catalogue.feed import ChangeFeed, RecordChange
from repository.catalogue.models import Record
from tests.conftest import Cli
from tests.helpers import count, import_json, marc, write


class Listener:
    """A subscriber that keeps what it hears, and fails while ``broken`` is set."""

    def __init__(self) -> None:
        self.heard: list[RecordChange] = []
        self.broken = False

    def __call__(self, changes) -> None:  # noqa: ANN001
        if self.broken:
            raise ConnectionError("search is down")
        self.heard.extend(changes)

    def take(self) -> list[tuple[str, str]]:
        """(local id, action) of what was heard since the last take."""
        heard, self.heard = self.heard, []
        return [(local_ids[c.record_id], c.action) for c in heard]


local_ids: dict[int, str] = {}


@pytest.fixture
def listener(services) -> Listener:  # noqa: ANN001
    heard = Listener()
    services.feed.subscribe("test", heard)
    return heard


def remember(services) -> None:  # noqa: ANN001
    with services.db.reading() as s:
        local_ids.update({rid: local for rid, local in s.execute(select(Record.id, Record.local_id))})


def test_each_committed_change_is_heard_once_with_what_happened(cli: Cli, tmp_path: Path, services, listener):
    first = write(tmp_path / "a.mrc", marc("F1", "Bir"), marc("F2", "Ikki"))
    import_json(cli, first)
    remember(services)
    assert sorted(listener.take()) == [("F1", "create"), ("F2", "create")]
    import_json(cli, first)
    assert listener.take() == []  # unchanged records change nothing
    import_json(cli, write(tmp_path / "b.mrc", marc("F1", "Bir, tuzatilgan")))
    assert listener.take() == [("F1", "update")]
    cli("delete", "F2")
    cli("history", "F1", "--restore", "1")
    assert listener.take() == [("F2", "delete"), ("F1", "restore")]


def test_a_dry_run_and_a_rolled_back_write_are_never_heard(cli: Cli, tmp_path: Path, services, listener):
    import_json(cli, "--dry-run", write(tmp_path / "a.mrc", marc("F1", "Bir")))
    assert listener.heard == []
    import_json(cli, write(tmp_path / "b.mrc", marc("F3", "Uch")))
    remember(services)
    assert listener.take() == [("F3", "create")]
    with pytest.raises(RuntimeError), services.db.transaction() as s:
        assert catalogue.delete_record(s, s.scalar(select(Record).where(Record.local_id == "F3")))
        raise RuntimeError("the deletion's transaction fails")
    assert listener.heard == []
    assert count(services, Record.deleted.is_(True)) == 0


def test_a_failing_subscriber_blocks_nothing_and_hears_what_it_missed_later(cli: Cli, tmp_path: Path, services,
                                                                            listener):  # fmt: skip
    listener.broken = True
    import_json(cli, write(tmp_path / "a.mrc", marc("F1", "Bir"), marc("F2", "Ikki")))
    assert count(services) == 2  # the catalogue committed all the same
    remember(services)
    assert sorted((local_ids[c.record_id], c.action) for c in services.feed.backlog("test")) == [
        ("F1", "create"), ("F2", "create")]  # fmt: skip
    listener.broken = False
    import_json(cli, write(tmp_path / "b.mrc", marc("F3", "Uch")))
    remember(services)
    assert sorted(listener.take()) == [("F1", "create"), ("F2", "create"), ("F3", "create")]
    assert services.feed.backlog("test") == []


def test_another_process_retries_the_backlog(cli: Cli, tmp_path: Path, services, listener):
    listener.broken = True
    import_json(cli, write(tmp_path / "a.mrc", marc("F1", "Bir")))
    remember(services)
    later = Listener()
    feed = ChangeFeed(services.db)  # as the next command or worker starts
    feed.subscribe("test", later)
    feed.retry()
    assert later.take() == [("F1", "create")]
    assert feed.backlog("test") == []
