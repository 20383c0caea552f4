"""The album PDF of a collection: made once for what it shows and kept where every worker of the node finds
it (made again when a title, the exhibition, the set's name, the language or the font changes), the kept
ones bounded, and at most KUTUBXONA_ALBUM_MAX_CONCURRENT made at once per worker (503 past that)."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from repository.web.albums import AlbumCache
from tests.conftest import Cli, require, serving
from tests.helpers import import_json, marc, write
from tests.web.test_shedding import samples
from tests.web.test_site import get

FONTS = Path("/usr/share/fonts/truetype/dejavu")


def text_of(pdf: bytes, tmp_path: Path) -> str:
    (tmp_path / "shown.pdf").write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", tmp_path / "shown.pdf", "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


@pytest.fixture
def font(tmp_path: Path) -> Path:
    require((FONTS / "DejaVuSans.ttf").is_file() and shutil.which("pdftotext") is not None,
            "fonts-dejavu-core and poppler-utils")  # fmt: skip
    path = tmp_path / "album-font.ttf"
    shutil.copy(FONTS / "DejaVuSans.ttf", path)
    return path


def navoiy(cli: Cli, tmp_path: Path) -> None:
    cli("sets", "add", "navoiy", "Navoiy merosi")
    import_json(cli, write(tmp_path / "a.mrc", marc("N1", "Xamsa"), marc("N2", "Lison ut-tayr"),
                           marc("N3", "Mahbub ul-qulub")), "--set", "navoiy")  # fmt: skip


def test_an_album_is_made_once_and_again_when_what_it_shows_changes(make_app, font: Path, tmp_path: Path):  # noqa: ANN001
    app = make_app(PDF_FONT=str(font))
    cli = Cli(app)
    navoiy(cli, tmp_path)
    kept = Path(app.extensions["kutubxona"].settings.var_dir) / "albums"
    with serving(app) as url:
        album = url + "/collections/navoiy/album.pdf?lang=en"
        status, _, first = get(album)
        assert status == 200 and "Xamsa" in text_of(first, tmp_path)
        [file] = kept.glob("*.pdf")
        assert file.read_bytes() == first
        # the next answer is the kept file (marked here to tell it from one made again)
        file.write_bytes(first + b"%kept\n")
        assert get(album)[2] == first + b"%kept\n"
        assert get(url + "/collections/navoiy/album.pdf?lang=ru")[2] != first + b"%kept\n"  # another language
        assert len(list(kept.glob("*.pdf"))) == 2

        def made_again() -> str:
            body = get(album)[2]
            assert not body.endswith(b"%kept\n")
            for path in kept.glob("*.pdf"):
                path.write_bytes(path.read_bytes() + b"%kept\n")
            return text_of(body, tmp_path)

        import_json(cli, write(tmp_path / "b.mrc", marc("N1", "Xamsa (toʻliq nashr)")))  # a record's title
        assert "Xamsa (toʻliq nashr)" in made_again()
        (tmp_path / "items.txt").write_text("N3\nN2\n")  # the exhibition's order
        cli("sets", "exhibit", "navoiy", "--items", tmp_path / "items.txt")
        shown = made_again()
        assert shown.index("Mahbub ul-qulub") < shown.index("Lison ut-tayr") < shown.index("Xamsa")
        cli("sets", "add", "navoiy", "Alisher Navoiy merosi")  # the collection's name
        assert "Alisher Navoiy merosi" in made_again()
        shutil.copy(FONTS / "DejaVuSansCondensed.ttf", font)  # another font at the same place
        made_again()
        cli("delete", "N2")  # a record leaves
        assert "Lison ut-tayr" not in made_again()
        assert get(album)[2].endswith(b"%kept\n")  # and nothing changed since: kept


def test_the_kept_albums_are_bounded_and_the_least_recently_used_go_first(tmp_path: Path):
    cache = AlbumCache(tmp_path / "albums", max_bytes=250)
    for key in ("a", "b"):
        cache.put(key, key.encode() * 100)
    assert cache.get("a") == b"a" * 100  # a is used again: b is now the oldest
    cache.put("c", b"c" * 100)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"a" * 100, None, b"c" * 100)
    assert sum(p.stat().st_size for p in (tmp_path / "albums").iterdir()) <= 250
    cache.put("d", b"d" * 300)  # larger than the bound alone: kept until the next one
    assert cache.get("d") == b"d" * 300 and cache.get("a") is None


def test_one_album_kept_by_several_threads_at_once_is_never_half_a_file(tmp_path: Path):
    kept = AlbumCache(tmp_path / "albums")
    body = b"%PDF-1.4 " + bytes(range(256)) * (1 << 14)  # 4 MB: writing it takes long enough to overlap
    failed: list[str] = []

    def keep_and_read() -> None:
        for _ in range(10):
            try:
                kept.put("a" * 64, body)
                got = kept.get("a" * 64)
                if got != body:
                    failed.append(f"read {len(got or b'')} bytes of {len(body)}")
            except OSError as exc:
                failed.append(repr(exc))

    threads = [threading.Thread(target=keep_and_read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    assert sorted(p.name for p in (tmp_path / "albums").iterdir()) == ["a" * 64 + ".pdf"]  # no temporary left


def test_albums_made_at_once_past_the_limit_are_503_and_counted_as_shed(make_app, font: Path, tmp_path: Path):  # noqa: ANN001
    app = make_app(PDF_FONT=str(font), ALBUM_MAX_CONCURRENT=1)
    navoiy(Cli(app), tmp_path)
    with serving(app) as url:
        assert get(url + "/collections/navoiy/album.pdf?lang=en")[0] == 200  # made, and kept
        before = samples(url)
        from repository.web.exports import _album_gate

        with app.app_context():
            gate = _album_gate()
        gate.acquire()  # an album is being made
        try:
            status, headers, body = get(url + "/collections/navoiy/album.pdf?lang=ru")
            assert status == 503 and int(headers["Retry-After"]) > 0 and b"albums" in body
            assert get(url + "/collections/navoiy/album.pdf?lang=en")[0] == 200  # a kept one is no work
            assert get(url + "/collections/navoiy/album?lang=ru")[0] == 200  # nor is the album page
        finally:
            gate.release()
        assert get(url + "/collections/navoiy/album.pdf?lang=ru")[0] == 200
        after = samples(url)
    assert after[("kutubxona_shed_requests_total", ())] - before.get(("kutubxona_shed_requests_total", ()), 0) == 1
