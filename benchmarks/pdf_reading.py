"""PDF reading: pages/s and words per paragraph on real PDFs, and OCR accuracy and time per engine.

Usage: python benchmarks/pdf_reading.py PDF... [--ocr N] [--trees TREE...] [--digests FILE [--save]]
(run with PYTHONPATH at the tree to measure)
--trees times the same files read by each source tree (a checkout's root, e.g. `git archive REV
assistant | tar -x -C DIR`) in its own process, alternating trees round by round (best of --rounds),
so a shared machine's load falls on both; --digests checks (or with --save writes) a digest of
each file's clean text, blocks and char map, so a change meant to be faster can be shown to read
every file exactly as before.
Words per paragraph ("all") is the median over all paragraph blocks; table rows are table
blocks, those read with their header ("Column: value") in brackets; "words found" is the share
of pdftotext's words (poppler-utils, when installed) that the reader's clean text also has.
"Body" measures the running text a person reads, the same way on every file: the document's
body size is the glyph size most of its characters are set in (the reader's own measure); a
body paragraph is a paragraph block (not a heading, table row, list item or furniture, which
are other blocks or dropped) set in that size (within 5%); a block marked as going on from the
block before it (a paragraph cut by a page end) counts with it as one paragraph. "Body" is the
median words over body paragraphs. A "mid-sentence break" is a body paragraph that does not
end a sentence (no . ! ? : ; or ... , closing quotes or brackets aside) while it plainly goes on:
the next body paragraph in reading order (other blocks between them skipped, across page and
column ends too) starts with a lower-case letter, or the paragraph itself ends in a hyphen or
a lower-case word ("... in" "Thailand, Malaysia"; a comma is left out: items of a list whose
bullets are drawings end in commas). A block marked as going on from it is no break.
The cell check (`pdf_cell_check`: numbers and cells merged or split against the printed line,
rows paired with the wrong or a partial header) adds its columns when pdftotext is installed
(--examples prints the rows it flags).
OCR renders the first N pages of each PDF with a text layer at OCR_DPI, OCRs the picture with
each engine, and scores its words against the page's own text layer.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from pdf_cell_check import HEAD, check_file


def _words(text: str) -> Counter:
    return Counter(w.casefold() for w in re.findall(r"\w+", text))


def recall(reference: str, text: str) -> float:
    want, have = _words(reference), _words(text)
    return sum(min(n, have[w]) for w, n in want.items()) / max(1, sum(want.values()))


_FINAL = re.compile(r"[.!?:;…][\"'”’)\]]*$")
_GOES_ON = re.compile(r"(?:-|\b[^\W\d_A-Z]*[a-z])$")  # a hyphen or a lower-case word (a comma may end a list item)


def body_paragraphs(result) -> list[tuple[str, bool]]:
    """(text, continues the one before) of each paragraph block set in the body size, in reading order."""
    text = result.builder.text()
    body = result.body_size
    return [(" ".join(text[b.start:b.end].split()), bool(getattr(b, "continues", False)))
            for b, size in zip(result.builder.blocks, result.block_sizes)
            if b.kind == "paragraph" and abs(size - body) <= 0.05 * body]


def body_measure(result) -> tuple[int, float, int]:
    """(body paragraphs, median words per body paragraph, mid-sentence breaks): see the module docstring."""
    pieces = body_paragraphs(result)
    words: list[int] = []
    breaks = 0
    for n, (text, continues) in enumerate(pieces):
        if continues and words:
            words[-1] += len(text.split())
        else:
            words.append(len(text.split()))
        following = pieces[n + 1] if n + 1 < len(pieces) else None
        if following is None or following[1] or _FINAL.search(text):
            continue
        breaks += bool(following[0][:1].islower() or _GOES_ON.search(text))
    return len(words), statistics.median(words) if words else 0.0, breaks


def read(paths: list[Path], examples: bool = False) -> None:
    from assistant.ingest.readers.pdf import extract

    checks = shutil.which("pdftotext") is not None  # the cell check reads pdftotext's printed lines
    print("| file | pages | s | pages/s | paragraphs | words/paragraph (all) | body paragraphs | words/paragraph (body) |"
          " mid-sentence breaks | table rows (read with header) | words found vs pdftotext |"
          + (f" {HEAD.replace('table rows | ', '')} |" if checks else ""))
    print("|---" * (11 + 8 * checks) + "|")
    shown: list[str] = []
    total_pages = total_seconds = 0.0
    for path in paths:
        raw = path.read_bytes()
        start = time.perf_counter()
        result = extract(raw)
        seconds = time.perf_counter() - start
        if isinstance(result, str):
            print(f"| {path.name} | - | - | - | - | - | - | - | - | - | {result} |" + " - |" * (8 * checks))
            continue
        text = result.builder.text()
        pages = len(result.builder.pages) + 1
        words = [len(text[b.start:b.end].split()) for b in result.builder.blocks if b.kind == "paragraph"]
        rows = [text[b.start:b.end] for b in result.builder.blocks if b.kind == "table"]
        paired = sum(" | " not in row and ": " in row for row in rows)
        body, body_words, breaks = body_measure(result)
        found = ""
        if shutil.which("pdftotext"):
            reference = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True).stdout.decode()
            found = f"{recall(reference, text):.3f}"
        total_pages += pages
        total_seconds += seconds
        cells = ""
        if checks:
            check = check_file(path)
            cells = " " + check.columns().split(" | ", 1)[1] + " |"
            shown += [f"{path.name} {example}" for example in check.examples]
        print(f"| {path.name} | {pages} | {seconds:.2f} | {pages / seconds:.1f} | {len(words)} | "
              f"{statistics.median(words) if words else 0:.0f} | {body} | {body_words:.0f} | {breaks} | "
              f"{len(rows)} ({paired}) | {found} |{cells}")
    print(f"\nall: {total_pages:.0f} pages in {total_seconds:.2f} s, {total_pages / total_seconds:.1f} pages/s")
    if examples:
        print("\n" + "\n".join(shown))


def digest(raw: bytes) -> str:
    """sha256 of what the reader makes of a PDF (text layer only): clean text, blocks, title, char map."""
    from assistant.ingest.readers.pdf import extract

    result = extract(raw, ocr=False)
    if isinstance(result, str):
        return result
    blocks = [(b.kind, b.start, b.end, b.level, b.page) + ((True,) if getattr(b, "continues", False) else ())
              for b in result.builder.blocks]
    payload = json.dumps([result.builder.text(), blocks, result.title, result.char_map], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


def check_digests(paths: list[Path], store: Path, save: bool) -> bool:
    """Compare each file's digest with the stored one (or store them); True when all match."""
    found = {path.name: digest(path.read_bytes()) for path in paths}
    if save:
        known = json.loads(store.read_text()) if store.exists() else {}
        store.write_text(json.dumps({**known, **found}, indent=1, sort_keys=True) + "\n")
        print(f"\n{len(found)} digests written to {store}")
        return True
    known = json.loads(store.read_text())
    changed = [name for name, value in found.items() if known.get(name) != value]
    print(f"\ndigests: {len(found) - len(changed)} of {len(found)} files read exactly as stored"
          + (f"; changed: {', '.join(changed)}" if changed else ""))
    return not changed


_TIMER = """
import sys, time
from pathlib import Path
try:
    from assistant.ingest.readers.pdf import extract
except ImportError:  # a source tree from before the package layout (issue 22)
    from assistant.readers.pdf import extract
files = [Path(p).read_bytes() for p in sys.argv[1:]]
start, cpu = time.perf_counter(), time.process_time()
for raw in files:
    extract(raw)
print(time.perf_counter() - start, time.process_time() - cpu)
"""


def _pages(path: Path) -> int:
    import pypdfium2 as pdfium

    try:
        return len(pdfium.PdfDocument(path.read_bytes()))
    except pdfium.PdfiumError:  # encrypted or damaged: read (and timed) all the same, no pages counted
        return 0


def compare_trees(paths: list[Path], trees: list[Path], rounds: int) -> None:
    """Seconds to read all files with each tree's reader, trees alternating every round; best of `rounds`."""
    pages = sum(_pages(path) for path in paths)
    best = {tree: float("inf") for tree in trees}
    cpu = {tree: float("inf") for tree in trees}
    for _ in range(rounds):
        for tree in trees:
            env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
            out = subprocess.run([sys.executable, "-c", _TIMER, *map(str, paths)], env=env, check=True,
                                 capture_output=True, text=True).stdout
            wall, used = map(float, out.split()[-2:])
            best[tree], cpu[tree] = min(best[tree], wall), min(cpu[tree], used)
    # CPU seconds as well: on a shared machine the wall clock also counts the time others had the cores.
    print(f"\n| tree | {len(paths)} files, {pages} pages: best of {rounds} | pages/s | CPU s | pages per CPU s |")
    print("|---|---|---|---|---|")
    for tree, seconds in best.items():
        print(f"| {tree} | {seconds:.2f} s | {pages / seconds:.1f} | {cpu[tree]:.2f} | {pages / cpu[tree]:.1f} |")


@functools.lru_cache(maxsize=1)
def _rapidocr():
    """RapidOCR 3 (PP-OCR ONNX models in its wheel), angle classifier off: it garbled lines."""
    import numpy as np
    from rapidocr import RapidOCR

    engine = RapidOCR(params={"Global.use_cls": False, "Global.log_level": "error"})
    return lambda image: engine(np.asarray(image.convert("RGB")))


def ocr(paths: list[Path], pages: int) -> None:
    import resource

    import pypdfium2 as pdfium

    from assistant.ingest.readers import ocr as ocr_module

    print("\n| engine | pages | s/page | words found vs text layer |")
    print("|---|---|---|---|")
    for name in ("tesseract", "rapidocr"):
        seconds, scores = 0.0, []
        for path in paths:
            pdf = pdfium.PdfDocument(path.read_bytes())
            for p in range(min(pages, len(pdf))):
                page = pdf[p]
                reference = page.get_textpage().get_text_range()
                if len(reference.split()) < 30:
                    continue
                image = page.render(scale=ocr_module.OCR_DPI / 72).to_pil()
                start = time.perf_counter()
                if name == "tesseract":
                    found = " ".join(line.text for line in ocr_module.ocr_image(image, p, *page.get_size())[0])
                else:
                    found = " ".join(_rapidocr()(image).txts or ())
                seconds += time.perf_counter() - start
                scores.append(recall(reference, found))
        print(f"| {name} | {len(scores)} | {seconds / max(1, len(scores)):.2f} | {statistics.mean(scores):.3f} |")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    peak = next((line.split()[1] for line in open("/proc/self/status") if line.startswith("VmPeak")), "?")
    print(f"\nmax RSS: this process {own:.0f} MB (RapidOCR runs in it), tesseract child {child:.0f} MB;"
          f" VmPeak {int(peak) // 1024} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("pdfs", nargs="+", type=Path)
    parser.add_argument("--ocr", type=int, default=0, help="OCR the first N pages of each PDF with each engine")
    parser.add_argument("--trees", nargs="+", type=Path, default=[], help="source trees to time, alternating")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--digests", type=Path, help="JSON of expected digests per file name")
    parser.add_argument("--save", action="store_true", help="write the digests instead of checking them")
    parser.add_argument("--examples", action="store_true", help="print the table rows the cell check flags")
    args = parser.parse_args()
    if args.trees:
        compare_trees(args.pdfs, args.trees, args.rounds)
    else:
        read(args.pdfs, args.examples)
    if args.digests and not check_digests(args.pdfs, args.digests, args.save):
        sys.exit(1)
    if args.ocr:
        ocr(args.pdfs, args.ocr)
