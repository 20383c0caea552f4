"""Full-text and storage benchmark: OCR pages/minute, PDF text pages/s, S3 upload/download MB/s.

    .venv/bin/python bench/fulltext.py [--ocr-pages 8] [--pdf-pages 500] [--mb 200]

Each measurement runs in a fresh process, so its peak RSS is its own.  OCR: clean A4 pages at
300 dpi rendered with DejaVu (Uzbek Latin and Cyrillic, Russian, English), recognised in parallel
as ``kutubxona ocr`` does, and the character error rates of the OCR tests' pages, clean and
degraded.  PDF: a generated PDF with a text layer through pdftotext.  S3: a
generated object streamed up to and down from moto_server (started here on a loopback port).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def child_ocr(pages: int, folder: str) -> dict:
    from repository.fulltext.ocr import recognise_pages
    from tests.fulltext.pages import TEXTS, page_image

    langs = sorted(TEXTS)
    lines = {lang: TEXTS[lang] * 12 for lang in langs}  # about 48 lines: a full A4 page of text
    paths = [page_image(lines[langs[i % 4]], Path(folder) / f"p{i}.png") for i in range(pages)]
    start = time.perf_counter()
    results = recognise_pages(paths, "uzb+uzb_cyrl+rus+eng")
    seconds = time.perf_counter() - start
    return {"pages": len(results), "seconds": seconds, "per_minute": len(results) / seconds * 60}


def child_cer(folder: str) -> dict:
    """Character error rates of the OCR tests' pages, clean and degraded, each in its own language."""
    from repository.fulltext.extract import extract
    from tests.fulltext.pages import TEXTS, cer, page_image

    rates = {}
    for lang in sorted(TEXTS):
        for degraded in (False, True):
            image = page_image(TEXTS[lang], Path(folder) / f"cer-{lang}-{degraded}.png", degraded=degraded)
            text, _ = extract(image, "image/png", languages=lang).pages[0]
            rates[f"{lang} {'degraded' if degraded else 'clean'}"] = cer("\n".join(TEXTS[lang]), text)
    return {"rates": rates}


def child_pdf(pages: int, folder: str) -> dict:
    from repository.fulltext.pdf import pdf_pages
    from tests.fulltext.pages import text_pdf

    lines = [f"Line {n}: Axborot-kutubxona markazlari and digital libraries of Uzbekistan" for n in range(45)]
    path = Path(folder) / "text.pdf"
    path.write_bytes(text_pdf([lines] * pages))
    start = time.perf_counter()
    got = pdf_pages(path)
    seconds = time.perf_counter() - start
    return {"pages": len(got), "seconds": seconds, "per_second": len(got) / seconds}


def child_s3(megabytes: int, endpoint: str, direction: str) -> dict:
    from repository.storage import open_store
    from tests.storage.test_stores import Generated

    store = open_store("s3://kx-bench", endpoint=endpoint)
    size = megabytes * 1024 * 1024
    start = time.perf_counter()
    stored = store.put(Generated(size))
    upload = time.perf_counter() - start
    if direction == "up":
        return {"mb_per_s": megabytes / upload, "key": stored.key}
    start = time.perf_counter()
    total = 0
    with store.open(stored.key) as fh:
        while chunk := fh.read(1 << 20):
            total += len(chunk)
    download = time.perf_counter() - start
    assert total == size
    return {"mb_per_s": megabytes / download}


def run_child(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "_child", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ocr-pages", type=int, default=8)
    parser.add_argument("--pdf-pages", type=int, default=500)
    parser.add_argument("--mb", type=int, default=200)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="kx-fulltext-")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    ocr = run_child("ocr", str(args.ocr_pages), work)
    rates = run_child("cer", work)["rates"]
    pdf = run_child("pdf", str(args.pdf_pages), work)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    moto = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    time.sleep(2)
    try:
        up = run_child("s3", str(args.mb), f"http://127.0.0.1:{port}", "up")
        down = run_child("s3", str(args.mb), f"http://127.0.0.1:{port}", "down")
    finally:
        moto.terminate()
    print(f"\n{'what':44} {'figure':>16} {'peak RSS MB':>12}")
    print(f"{'OCR, clean A4 pages, uzb+uzb_cyrl+rus+eng':44} {ocr['per_minute']:10.1f} pages/min {ocr['rss_mb']:12.0f}")
    print(f"{'PDF text layer, pdftotext':44} {pdf['per_second']:12.0f} pages/s {pdf['rss_mb']:12.0f}")
    print(f"{f'S3 upload, {args.mb} MB object (moto_server)':44} {up['mb_per_s']:15.1f} MB/s {up['rss_mb']:12.0f}")
    print(
        f"{f'S3 download, {args.mb} MB object (moto_server)':44} {down['mb_per_s']:15.1f} MB/s {down['rss_mb']:12.0f}"
    )
    print("(the download child finds the object already stored, same bytes, same key, and only reads it)")
    print("\ncharacter error rate of the OCR tests' pages (Uzbek apostrophes and whitespace folded), each page in")
    print("its own language; degraded: blur, 0.7° rotation, salt-and-pepper noise")
    print(f"{'page':10} {'clean':>8} {'degraded':>9}")
    for lang in sorted({key.split()[0] for key in rates}):
        print(f"{lang:10} {rates[f'{lang} clean']:8.2%} {rates[f'{lang} degraded']:9.2%}")
    print(f"\nrerun: .venv/bin/python bench/fulltext.py --ocr-pages {args.ocr_pages} --pdf-pages {args.pdf_pages} "
          f"--mb {args.mb}")  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        kind, rest = sys.argv[2], sys.argv[3:]
        if kind == "ocr":
            result = child_ocr(int(rest[0]), rest[1])
        elif kind == "pdf":
            result = child_pdf(int(rest[0]), rest[1])
        elif kind == "cer":
            result = child_cer(rest[0])
        else:
            result = child_s3(int(rest[0]), rest[1], rest[2])
        result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
    else:
        main()
