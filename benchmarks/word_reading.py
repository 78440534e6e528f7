"""Time the Word reader on a large generated handbook (about 800 pages: paragraphs, headings, lists, tables).

Usage: python benchmarks/word_reading.py [--file PATH] [--repeat N]

The handbook is made with python-docx once and kept at PATH (default: a file in the system's temporary
folder), so before/after runs read the same bytes. Prints the file's size, the reading time (best of N),
the number of blocks and characters read.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

_WORDS = ("harbour ferry timetable winter service crossing passenger vehicle ticket season return island "
          "quay berth tide weather notice booking fare child adult concession bicycle luggage office "
          "inspection maintenance safety crew captain deck lounge cafe accessible ramp lift").split()


def make_handbook(path: Path, chapters: int = 40) -> Path:
    """An ~800-page .docx: per chapter a heading, 20 sections of prose, lists and a 12-row table."""
    import docx

    rng = random.Random(21)

    def sentence(n: int) -> str:
        return " ".join(rng.choice(_WORDS) for _ in range(n)).capitalize() + "."

    document = docx.Document()
    document.add_heading("Ferry Operations Handbook", 0)
    for chapter in range(1, chapters + 1):
        document.add_heading(f"Chapter {chapter}", level=1)
        for section in range(1, 21):
            document.add_heading(f"Section {chapter}.{section}", level=2)
            for _ in range(6):
                document.add_paragraph(" ".join(sentence(rng.randint(8, 20)) for _ in range(5)))
            for _ in range(3):
                document.add_paragraph(sentence(10), style="List Bullet")
            if section % 2 == 0:
                table = document.add_table(rows=12, cols=4)
                for r, row in enumerate(table.rows):
                    for c, cell in enumerate(row.cells):
                        cell.text = f"Column {c}" if r == 0 else sentence(3)
    document.save(path)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=Path(tempfile.gettempdir()) / "assistant-handbook.docx")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if not args.file.exists():
        started = time.perf_counter()
        make_handbook(args.file)
        print(f"made {args.file} in {time.perf_counter() - started:.1f} s")
    from assistant.ingest.readers.word import extract

    raw = args.file.read_bytes()
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        found = extract(raw)
        times.append(time.perf_counter() - started)
    if isinstance(found, str):
        raise SystemExit(f"not read: {found}")
    builder, title = found
    print(f"{args.file.name}: {len(raw) / 1e6:.1f} MB, read in {min(times):.2f} s (best of {args.repeat}; "
          f"all {', '.join(f'{t:.2f}' for t in times)}), {len(builder.blocks)} blocks, "
          f"{builder.length:,} characters, title {title!r}")


if __name__ == "__main__":
    main()
