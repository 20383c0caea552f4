"""Where ``kutubxona export --out`` writes: a regular file whole or not at all; a FIFO, a device or
standard output written through; a path that cannot be written said in one line, exit 2."""

from __future__ import annotations

import os
import resource
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from repository.metadata.marc import to_iso2709
from tests.conftest import Cli
from tests.helpers import import_json, marc, write

RECORDS = [marc(f"E{i}", f"Kitob {i}") for i in range(3)]
EXPECTED = b"".join(to_iso2709(r) for r in RECORDS)


@pytest.fixture
def catalogue(cli: Cli, tmp_path: Path) -> Cli:
    import_json(cli, write(tmp_path / "in.mrc", *RECORDS))
    return cli


def one_line(result, fragment: str) -> None:  # noqa: ANN001
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert "Traceback" not in result.output


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder of its own for the exports, to see that nothing else is left in it."""
    made = tmp_path / "exports"
    made.mkdir()
    return made


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_folder_that_does_not_exist_is_one_line(catalogue: Cli, tmp_path: Path):
    result = catalogue("export", "--format", "iso2709", "--out", tmp_path / "nowhere" / "x.mrc", code=2)
    one_line(result, f"cannot write {tmp_path / 'nowhere' / 'x.mrc'}: the folder {tmp_path / 'nowhere'} does not exist")


def test_a_regular_file_is_replaced_whole_keeping_its_mode(catalogue: Cli, folder: Path):
    out = folder / "monthly.mrc"
    out.write_bytes(b"last month")
    out.chmod(0o640)
    catalogue("export", "--format", "iso2709", "--out", out)
    assert out.read_bytes() == EXPECTED and stat.S_IMODE(out.stat().st_mode) == 0o640
    assert leftovers(folder) == ["monthly.mrc"]  # no temporary file left beside it
    fresh = folder / "fresh.mrc"
    catalogue("export", "--format", "iso2709", "--out", fresh)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask  # as any new file, not a private temporary


def test_a_replaced_file_keeps_its_permissions_but_never_set_user_id(catalogue: Cli, folder: Path):
    out = folder / "monthly.mrc"
    out.write_bytes(b"last month")
    out.chmod(0o6750)  # as a link swapped in for the file since the check would have shown /usr/bin/passwd's
    catalogue("export", "--format", "iso2709", "--out", out)
    assert out.read_bytes() == EXPECTED and stat.S_IMODE(out.stat().st_mode) == 0o750


def test_a_symlink_stays_a_symlink_and_its_target_is_written(catalogue: Cli, tmp_path: Path):
    target = tmp_path / "real.mrc"
    target.write_bytes(b"old")
    link = tmp_path / "latest.mrc"
    link.symlink_to(target.name)
    catalogue("export", "--format", "iso2709", "--out", link)
    assert link.is_symlink() and target.read_bytes() == EXPECTED


NOBODY = 65534  # another user: the owner of a link planted in a folder others may write in


def planted(link: Path, target: Path) -> Path:
    """A symlink to ``target`` that another user placed (root alone may give a link away)."""
    link.symlink_to(target)
    os.lchown(link, NOBODY, NOBODY)
    return link


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can make a link of another user")
def test_a_symlink_of_another_user_is_never_followed(catalogue: Cli, tmp_path: Path):
    shared = tmp_path / "shared"  # a folder everyone may write in, as /tmp (fs.protected_symlinks may be off)
    shared.mkdir(mode=0o1777)
    shared.chmod(0o1777)
    victim = tmp_path / "shadow"
    victim.write_bytes(b"root:secret")
    victim.chmod(0o600)
    link = planted(shared / "monthly.mrc", victim)
    result = catalogue("export", "--format", "iso2709", "--out", link, code=2)
    refused = f"it is a symbolic link of another user (uid {NOBODY}), which is not followed"
    one_line(result, f"cannot write {link}: {refused}")
    assert victim.read_bytes() == b"root:secret" and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary beside it
    # nor through a link of our own that leads to theirs, nor into a device node their link names
    ours = shared / "latest.mrc"
    ours.symlink_to(link)
    result = catalogue("export", "--format", "iso2709", "--out", ours, code=2)
    one_line(result, f"{link} is a symbolic link of another user")
    null = device(tmp_path, "null", 3)
    disk = planted(shared / "disk.mrc", null)
    one_line(catalogue("export", "--format", "iso2709", "--out", disk, code=2), "which is not followed")
    # the rejected records of a batch are written the same way
    one_line(catalogue("batches", "rejected", "1", "--out", link, code=2), "which is not followed")
    assert victim.read_bytes() == b"root:secret"


def test_a_fifo_is_written_through(catalogue: Cli, tmp_path: Path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = tmp_path / "received"
    with received.open("wb") as sink:
        reader = subprocess.Popen(["cat", str(fifo)], stdout=sink)
        try:
            catalogue("export", "--format", "iso2709", "--out", fifo)
            reader.wait(timeout=30)
        finally:
            if reader.poll() is None:  # the FIFO was replaced: cat still waits for a writer
                reader.kill()
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert received.read_bytes() == EXPECTED


def device(tmp_path: Path, name: str, minor: int) -> Path:
    """A character device of the memory driver: /dev/null (3) or /dev/full (7), of our own when we may.

    As root the test makes its own node, so that code that replaced the device would replace ours,
    never the machine's /dev/full; otherwise the real one, which an unprivileged process cannot replace.
    """
    if os.geteuid() != 0:
        return Path(f"/dev/{name}")
    node = tmp_path / name
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    return node


def test_a_device_is_written_through_and_stays_a_device(catalogue: Cli, tmp_path: Path):
    null = device(tmp_path, "null", 3)
    result = catalogue("export", "--format", "iso2709", "--out", null)
    assert "3 records written" in result.output and stat.S_ISCHR(null.stat().st_mode)


def test_a_full_disk_is_one_line_and_the_device_stays(catalogue: Cli, tmp_path: Path):
    full = device(tmp_path, "full", 7)
    result = catalogue("export", "--format", "iso2709", "--out", full, code=2)
    one_line(result, f"cannot write {full}: No space left on device")
    assert stat.S_ISCHR(full.stat().st_mode)


# ------------------------------------------------------------------------------- as a cron job runs it


def kutubxona(tmp_path: Path, db_url: str, *args: str, limit: int | None = None) -> subprocess.CompletedProcess:
    """The installed script in its own process; ``limit``: the largest file it may write (RLIMIT_FSIZE)."""
    script = Path(sys.executable).parent / "kutubxona"
    env = {**os.environ, "KUTUBXONA_DATABASE_URL": db_url, "KUTUBXONA_VAR_DIR": str(tmp_path / "var"),
           "KUTUBXONA_AUTO_MIGRATE": "no"}  # fmt: skip

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([str(script), *args], env=env, capture_output=True, timeout=120,
                          preexec_fn=limited if limit is not None else None)  # fmt: skip


def test_standard_output_carries_the_records_and_nothing_else(catalogue: Cli, tmp_path: Path, db_url: str):
    for out in ("-", "/dev/stdout"):
        done = kutubxona(tmp_path, db_url, "export", "--format", "iso2709", "--out", out)
        assert done.returncode == 0, done.stderr
        assert done.stdout == EXPECTED  # the summary goes to stderr, and no progress: stderr is no terminal
        assert done.stderr.decode().strip() == f"3 records written to {'standard output' if out == '-' else out}"


def test_a_failed_export_leaves_the_old_file_and_no_half_file(
    catalogue: Cli, tmp_path: Path, folder: Path, db_url: str
):
    out = folder / "monthly.mrc"
    out.write_bytes(b"last month")
    done = kutubxona(tmp_path, db_url, "export", "--format", "iso2709", "--out", str(out), limit=len(EXPECTED) // 2)
    assert done.returncode == 2
    assert done.stderr.decode().strip() == f"Error: cannot write {out}: File too large"
    assert out.read_bytes() == b"last month" and leftovers(folder) == ["monthly.mrc"]


def test_a_person_at_a_terminal_sees_progress_on_stderr(catalogue: Cli, tmp_path: Path, db_url: str):
    import pty

    script = Path(sys.executable).parent / "kutubxona"
    env = {**os.environ, "KUTUBXONA_DATABASE_URL": db_url, "KUTUBXONA_VAR_DIR": str(tmp_path / "var"),
           "KUTUBXONA_AUTO_MIGRATE": "no"}  # fmt: skip
    main, secondary = pty.openpty()
    proc = subprocess.Popen([str(script), "export", "--format", "iso2709", "--out", "-"], env=env,
                            stdout=subprocess.PIPE, stderr=secondary)  # fmt: skip
    os.close(secondary)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    records = proc.stdout.read()
    assert proc.wait() == 0 and records == EXPECTED  # the bar never mixes into the records
    assert "export" in shown.decode() and "100%" in shown.decode() and "3 records written" in shown.decode()
