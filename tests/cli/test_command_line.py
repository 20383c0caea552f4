"""The command line as a user calls it: exit statuses, ``--json`` shapes, one-line errors.

Exit statuses, for every command: 0 when everything asked was done, 1 when some items failed and
were reported, 2 when nothing could be done.  Most tests run the commands in this process; the
last ones start the installed ``kutubxona`` script, as a user's shell would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ID, Cli
from tests.helpers import import_json, marc, write

REPORT_KEYS = {"batch", "file", "records", "created", "updated", "unchanged", "skipped", "rejected", "warnings",
               "problems"}  # fmt: skip


def one_line_error(result, fragment: str) -> None:  # noqa: ANN001
    """The command failed with one line naming the problem, and no traceback."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0] and "Traceback" not in result.output


def test_import_json_shape_and_exit_1_for_rejected_records(cli: Cli, tmp_path: Path):
    good = marc("C1", "Oʻzbekiston tarixi")
    bad = marc("C2", "")  # no title: rejected, kept in the batch
    result = cli("import", "--json", write(tmp_path / "mixed.mrc", good, bad), code=1)
    (report,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert set(report) == REPORT_KEYS | {"encoding"}  # an ISO 2709 file says which code page it was read in
    assert report["encoding"] == {"decided": None, "why": "every record is ASCII or UTF-8"}
    assert (report["records"], report["created"], report["rejected"]) == (2, 1, 1)
    (problem,) = report["problems"]
    assert set(problem) == {"position", "offset", "line", "outcome", "reason"}
    assert (problem["position"], problem["outcome"], problem["offset"] > 0) == (2, "rejected", True)


def test_import_of_an_unreadable_file_exits_2_with_the_reason(cli: Cli, tmp_path: Path):
    junk = tmp_path / "junk.mrc"
    junk.write_bytes(b"this is no MARC at all\n")
    result = cli("import", junk, code=2)
    one_line_error(result, "junk.mrc")
    (report,) = [json.loads(line) for line in cli("import", "--json", junk, code=2).stdout.splitlines()]
    assert report["error"] and report["batch"] is None


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("show", "NOSUCH"), "no record 'NOSUCH'"),
        (("delete", f"oai:{REPO_ID}:NOSUCH"), "no record"),
        (("history", "C1", "--restore", "9"), "has no version 9"),
        (("sets", "add", "bad spec!", "Name"), "invalid set spec"),
        (("import", "--set", "nowhere", "{file}"), "no such set: nowhere"),
        (("export", "--format", "marcxml", "--set", "nowhere", "--out", "{out}"), "no such set: nowhere"),
        (("batches", "show", "999"), "no batch 999"),
        (("batches", "rejected", "999", "--out", "{out}"), "no batch 999"),
        (("harvest", "run", "nosuch"), "no harvest source 'nosuch'"),
        (("harvest", "add", "bad:name", "http://example.uz/oai"), "a source name is"),
        (("harvest", "add", "src", "ftp://example.uz/oai"), "must be http(s)"),
        (("attach", "C1", "{file}", "--access", "sometimes"), "access must be open"),
        (("ocr",), "give an ID or --all"),
        (("export", "--format", "iso2709", "--since", "yesterday", "--out", "{out}"), "--since must be"),
    ],
)
def test_what_cannot_be_done_exits_2_in_one_line(cli: Cli, tmp_path: Path, args: tuple[str, ...], fragment: str):
    file = write(tmp_path / "c.mrc", marc("C1", "Bir"))
    import_json(cli, file)
    filled = [a.format(file=file, out=tmp_path / "out.xml") for a in args]
    one_line_error(cli(*filled, code=2), fragment)
    assert not (tmp_path / "out.xml").exists()


@pytest.mark.settings(HARVEST_ALLOW_PRIVATE="yes")  # a harvest source on loopback
def test_json_listings_have_stable_shapes(cli: Cli, tmp_path: Path):
    cli("sets", "add", "fond", "Asosiy fond", "--description", "Kitoblar")
    import_json(cli, write(tmp_path / "c.mrc", marc("C1", "Bir")), "--set", "fond")
    sets = json.loads(cli("sets", "list", "--json").stdout)
    assert sets == [{"spec": "fond", "name": "Asosiy fond", "description": "Kitoblar", "records": 1,
                     "introduction": None, "cover": None, "exhibit": []}]  # fmt: skip
    shown = json.loads(cli("show", "C1", "--format", "json").stdout)
    assert {"local_id", "oai_identifier", "url", "flavour", "title", "datestamp", "deleted", "sets", "formats",
            "versions", "dc", "files", "leader", "fields"} <= set(shown)  # fmt: skip
    assert (shown["oai_identifier"], shown["sets"], shown["title"]) == (f"oai:{REPO_ID}:C1", ["fond"], "Bir")
    batch = json.loads(cli("batches", "show", "1", "--json").stdout)
    assert (batch["batch"], batch["records"], batch["created"], batch["problems"]) == (1, 1, 1, [])
    cli("harvest", "add", "src", "http://127.0.0.1:9/oai")
    (source,) = json.loads(cli("harvest", "status", "--json").stdout)
    assert (source["name"], source["status"], source["last_response_date"]) == ("src", "new", None)


def test_delete_twice_says_so_and_exits_0(cli: Cli, tmp_path: Path):
    import_json(cli, write(tmp_path / "c.mrc", marc("C1", "Bir")))
    assert cli("delete", "C1").stdout.strip() == "deleted C1"
    assert cli("delete", "C1").stdout.strip() == "C1 was already deleted"


# ------------------------------------------------------------------------------- the installed script


def kutubxona(tmp_path: Path, db_url: str, *args: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).parent / "kutubxona"
    env = {**os.environ, "KUTUBXONA_DATABASE_URL": db_url, "KUTUBXONA_VAR_DIR": str(tmp_path / "var"),
           "KUTUBXONA_AUTO_MIGRATE": "no"}  # fmt: skip
    return subprocess.run([str(script), *args], env=env, capture_output=True, text=True, timeout=60)


def test_the_installed_script_exits_2_in_one_line(tmp_path: Path, db_url: str):
    done = kutubxona(tmp_path, db_url, "show", "NOSUCH")
    assert done.returncode == 2 and done.stderr.strip() == "Error: no record 'NOSUCH'"
    usage = kutubxona(tmp_path, db_url, "import")
    assert usage.returncode == 2 and "Missing argument" in usage.stderr and "Traceback" not in usage.stderr


def test_the_installed_script_reports_bad_settings_in_one_line(tmp_path: Path, db_url: str, monkeypatch):
    monkeypatch.setenv("KUTUBXONA_OAI_PAGE_SIZE", "many")
    done = kutubxona(tmp_path, db_url, "sets", "list")
    assert done.returncode == 2
    assert done.stderr.strip() == "Error: KUTUBXONA_OAI_PAGE_SIZE must be a whole number, not 'many'"


def test_sample_load_imports_every_file_and_sets_up_the_exhibition(cli: Cli):
    from repository.metadata.sample import EXHIBITION, SETS

    result = cli("sample", "load")
    assert "rejected" in result.output and " 0 rejected" in result.output
    sets = {s["spec"]: s for s in json.loads(cli("sets", "list", "--json").stdout)}
    assert set(sets) == set(SETS)
    spec, introduction, items = EXHIBITION
    assert sets[spec]["introduction"] == introduction and sets[spec]["exhibit"] == [i for i, _ in items]
    shown = json.loads(cli("show", items[0][0], "--format", "json").stdout)
    assert shown["kind"] == "manuscript"  # the curated items are the manuscripts they are captioned as
