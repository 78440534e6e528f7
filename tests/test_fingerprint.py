"""The chunk fingerprint: it covers every module and library a real read-and-chunk uses, it changes
when any of them or the settings change, and nothing else moves it."""

from __future__ import annotations

import hashlib
import json
import os
import py_compile
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import CHROMIUM, CORPUS, html_to_pdf, make_docx

import assistant
from assistant.index.keys import content_hash, content_hash64
from assistant.ingest.chunker import ChunkSettings, chunk_document
from assistant.ingest.fingerprint import (
    IGNORED,
    LIBRARIES,
    SHARED,
    Fingerprint,
    chunk_fingerprint,
    embedded_texts,
    fingerprint,
)
from assistant.types import Document

PACKAGE = Path(assistant.__file__).resolve().parent
REAL = Path(__file__).resolve().parent / "data" / "real"
REAL_FILES = ("testPPT.pptx", "testEXCEL.xlsx", "testEXCEL.xls", "testCSV.csv", "testThunderbirdEml.eml",
              "single_mail.mbox", "LibreOfficeWriter_odt_1.3.odt", "testEPUB.epub", "testRTF.rtf", "testWORD.doc",
              "testPPT.ppt", "testMSG.msg")

MARKDOWN = """---
title: Harbour Rules
---
# Harbour Rules

Boats moor on the east wall. The following applies to every visitor:

- Moorings are booked at the office.
- The crane is run by the harbour master.

## Fees

To pay the fee, use the terminal:

```
pay --berth 12
```
"""

RST = """Ferry Rules
===========

Tickets are sold on the quay by the :term:`purser`; see ``fares.txt``.

.. code-block:: text

   Sunday 12:00
"""

HTML = """<html><head><title>Ferry Timetable</title></head><body><nav>Home | News</nav><main>
<h1>Ferry Timetable</h1><p>The ferry to Hollin Island leaves the pier at noon on Sundays and at nine on weekdays.</p>
<h2>Fares</h2><ul><li>Adults pay four pounds.</li><li>Children travel free.</li></ul>
<table><tr><td>Day</td><td>Leaves</td></tr><tr><td>Sunday</td><td>12:00</td></tr></table>
</main></body></html>"""

# Reads and chunks every file of a folder in a fresh interpreter, then says which modules and
# distributions that took, what the chunks were, and the fingerprint.
READ_AND_CHUNK = """
import hashlib, json, sys
from pathlib import Path
before = set(sys.modules)
from assistant.index.bm25 import build_postings, tokenize_all
from assistant.ingest.chunker import ChunkSettings, chunk_document
from assistant.ingest.reader import read_document
from assistant.types import Document
output = hashlib.sha256()
for path in sorted(Path(sys.argv[1]).iterdir()):
    doc = read_document(path, path.name)
    if path.suffix in (".msg", ".doc", ".ppt") and not isinstance(doc, Document):
        continue  # no converter on this machine (.doc, .ppt): the reader still ran
    assert isinstance(doc, Document), doc
    chunks = chunk_document(doc, ChunkSettings())
    for chunk in chunks:
        output.update(json.dumps(chunk.to_dict(), sort_keys=True).encode())
    terms, postings = build_postings(tokenize_all(c.search_text for c in chunks))
    output.update(json.dumps(terms).encode() + postings.docs.tobytes() + postings.tf.tobytes())
modules = {name: module.__file__ for name, module in sys.modules.items() if name.split(".")[0] == "assistant"}
top = {name.split(".")[0] for name in set(sys.modules) - before} - set(sys.stdlib_module_names) - {"assistant"}
import importlib.metadata
owners = importlib.metadata.packages_distributions()
from assistant.ingest.fingerprint import fingerprint
print(json.dumps({"modules": modules, "distributions": sorted({d for name in top for d in owners.get(name, [])}),
                  "fingerprint": fingerprint(ChunkSettings()).to_dict(), "output": output.hexdigest()}))
"""

FINGERPRINT = """
import json, assistant
from assistant.ingest.chunker import ChunkSettings
from assistant.ingest.fingerprint import fingerprint
print(json.dumps({"file": assistant.__file__, "fingerprint": fingerprint(ChunkSettings()).to_dict()}))
"""


def _run(script: str, *args: str, path: Path | None = None, cwd: Path, seed: str = "0") -> dict:
    """A fresh interpreter; `path` first on sys.path (cwd is not the worktree, so it cannot shadow it)."""
    env = {**os.environ, "PYTHONHASHSEED": seed, "HF_HUB_OFFLINE": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    if path is not None:
        env["PYTHONPATH"] = str(path)
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _fingerprint_of(root: Path, cwd: Path) -> tuple[dict, str]:
    """The fingerprint (as a dict) of the package copy under root, and the file it was imported from."""
    run = _run(FINGERPRINT, path=root, cwd=cwd)
    return run["fingerprint"], run["file"]


@pytest.fixture(scope="module")
def every_format(tmp_path_factory) -> Path:
    """One file of each format the readers take (PDF, Word, HTML, reStructuredText, plain text, Markdown,
    and the real files of REAL_FILES); test_every_format_is_in_the_folder keeps it complete."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} to print the PDF")
    folder = tmp_path_factory.mktemp("formats")
    html_to_pdf(HTML, folder / "timetable.pdf")
    make_docx(folder / "library.docx")
    (folder / "timetable.html").write_text(HTML, encoding="utf-8")
    (folder / "harbour.md").write_text(MARKDOWN, encoding="utf-8")
    (folder / "ferry.rst").write_text(RST, encoding="utf-8")
    shutil.copy(sorted(CORPUS.glob("*.txt"))[0], folder / "seed.txt")
    for name in REAL_FILES:  # real files of the formats the library readers take
        shutil.copy(REAL / name, folder / name)
    (folder / "stock.tsv").write_text("Item\tShelf\nRope\tB4\n", encoding="utf-8")
    (folder / "notes.org").write_text("#+TITLE: Notes\n* Moorings\nBoats moor on the east wall.\n", encoding="utf-8")
    _scan(folder / "scan.png", "Boats moor on the east wall.")  # an image, read by OCR
    return folder


def _scan(path: Path, line: str) -> None:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (1200, 300), 255)
    ImageDraw.Draw(image).text((40, 120), line, fill=0, font=ImageFont.load_default(size=48))
    image.save(path)


@pytest.fixture(scope="module")
def runs(every_format, tmp_path_factory) -> list[dict]:
    """Two fresh interpreters with different hash seeds reading and chunking every format."""
    cwd = tmp_path_factory.mktemp("cwd")
    return [_run(READ_AND_CHUNK, str(every_format), cwd=cwd, seed=seed) for seed in ("1", "2")]


def _copy(tmp_path: Path, name: str) -> Path:
    """A copy of the package (no bytecode) under tmp_path/name/assistant; returns tmp_path/name."""
    root = tmp_path / name
    shutil.copytree(PACKAGE, root / "assistant", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not in {path.name} once: update this test"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_every_module_a_read_and_chunk_imports_is_fingerprinted(runs):
    """A module on the read-and-chunk path that the fingerprint missed would let stale chunks through."""
    run = runs[0]
    inputs = run["fingerprint"]["modules"]
    imported = run["modules"]  # listed before the script imports assistant.ingest.fingerprint itself
    assert set(imported) == set(inputs), "fingerprinted modules differ from what reading and chunking imports"
    for name, file in imported.items():
        assert Path(file).resolve().is_relative_to(PACKAGE), file
        if name != SHARED:  # hashed by the definitions the chunk path takes from it (test below)
            assert hashlib.sha256(Path(file).read_bytes()).hexdigest() == inputs[name], name
    assert {"assistant.ingest.reader", "assistant.ingest.chunker", "assistant.text", "assistant.types",
            "assistant.ingest.readers.pdf", "assistant.ingest.readers.word", "assistant.ingest.readers.webpage",
            "assistant.ingest.readers.rst"} <= set(inputs)


def test_every_format_is_in_the_folder(every_format):
    """The import checks above see only the readers this folder makes run: it must hold every format."""
    from assistant.ingest.readers import FORMATS, format_of

    assert {format_of(p.suffix) for p in every_format.iterdir()} == {f.name for f in FORMATS}


def test_every_library_a_read_and_chunk_imports_is_fingerprinted(runs):
    known = {name.lower().replace("_", "-") for name in [*LIBRARIES, *IGNORED]}
    missing = [d for d in runs[0]["distributions"] if d.lower().replace("_", "-") not in known]
    assert not missing, f"add to fingerprint.LIBRARIES (or to IGNORED with the reason): {missing}"
    assert all(runs[0]["fingerprint"]["libraries"].values()), "a LIBRARIES name is not an installed distribution"


def test_same_fingerprint_same_chunks_in_any_process(runs):
    """Chunks depend on nothing the fingerprint leaves out, such as the hash seed of the process."""
    assert runs[0]["output"] == runs[1]["output"]
    assert runs[0]["fingerprint"] == runs[1]["fingerprint"]
    assert runs[0]["fingerprint"]["digest"] == chunk_fingerprint(ChunkSettings())


@pytest.mark.parametrize("file, old, new", [
    ("config.py", "MAX_CHARS_PER_WORD = 40", "MAX_CHARS_PER_WORD = 41"),  # the chunker's
    ("config.py", "MAX_TOKEN_CHARS = 100", "MAX_TOKEN_CHARS = 101"),  # text.py's
    ("config.py", "MIB = 1024 * 1024", "MIB = 1000 * 1000"),  # used by MAX_FILE_BYTES, which reader.py imports
    ("config.py", "OCR_MAX_PAGES = 30", "OCR_MAX_PAGES = 31"),  # a reader's, imported by name from the format table
    ("types.py", 'BLOCK_KINDS = ("heading",', 'BLOCK_KINDS = ("title", "heading",'),
    ("ingest/readers/build.py", 'PAGE_BREAK = "\\n\\f\\n"', 'PAGE_BREAK = "\\n\\f\\n\\n"'),
    ("ingest/readers/pdf_blocks.py", "HEADING_RATIO = 1.15", "HEADING_RATIO = 1.2"),
    ("ingest/readers/rst.py", 'CONDITIONS = frozenset({"only", "ifconfig"})', 'CONDITIONS = frozenset({"only"})'),
])
def test_a_changed_constant_changes_the_fingerprint(tmp_path, file, old, new):
    same, changed = _copy(tmp_path, "same"), _copy(tmp_path, "changed")
    _edit(changed / "assistant" / file, old, new)
    (before, before_file), (after, after_file) = (_fingerprint_of(root, tmp_path) for root in (same, changed))
    assert Path(before_file).is_relative_to(same) and Path(after_file).is_relative_to(changed)
    assert before["digest"] == chunk_fingerprint(ChunkSettings()), "a copy elsewhere must give the same fingerprint"
    assert after["digest"] != before["digest"]
    name = "assistant." + file.removesuffix(".py").replace("/", ".")
    assert Fingerprint(**after).changes(before) == [f"{name} changed"]


def test_a_new_module_on_the_chunk_path_is_fingerprinted_without_being_listed(tmp_path):
    root = _copy(tmp_path, "grown")
    (root / "assistant" / "hyphens.py").write_text("SOFT = '\\xad'\n", encoding="utf-8")
    _edit(root / "assistant" / "ingest" / "readers" / "build.py", "from ...types import INLINE_CODE, Block",
          "from ...hyphens import SOFT  # noqa: F401\nfrom ...types import INLINE_CODE, Block")
    grown, _ = _fingerprint_of(root, tmp_path)
    assert "assistant.hyphens" in grown["modules"]
    assert grown["digest"] != chunk_fingerprint(ChunkSettings())


def test_a_new_reader_registered_in_the_format_table_is_fingerprinted(tmp_path):
    """Reader modules are imported by name from the table, not by an import statement: one new
    module and one table line must still be hashed (and a change to that module noticed)."""
    root = _copy(tmp_path, "registered")
    readers = root / "assistant" / "ingest" / "readers"
    (readers / "tally.py").write_text("def extract(raw):\n    return 'no tally'\n", encoding="utf-8")
    _edit(readers / "__init__.py", 'Format("text", (".txt", ".text"), "text", decoded=True, named=True),',
          'Format("text", (".txt", ".text"), "text", decoded=True, named=True),\n    Format("tally", (".tally",), "tally"),')
    grown, _ = _fingerprint_of(root, tmp_path)
    assert "assistant.ingest.readers.tally" in grown["modules"]
    (readers / "tally.py").write_text("def extract(raw):\n    return 'none'\n", encoding="utf-8")
    changed, _ = _fingerprint_of(root, tmp_path)
    assert Fingerprint(**changed).changes(grown) == ["assistant.ingest.readers.tally changed"]


def test_modules_off_the_chunk_path_do_not_move_it(tmp_path):
    """Answering, search and the web are not hashed: changing them must not re-chunk a corpus."""
    root = _copy(tmp_path, "answers")
    (root / "assistant" / "retrieve" / "answer.py").write_text("# changed\n", encoding="utf-8")
    # assistant/config.py counts only by what the chunk path imports from it: search and web settings,
    # limits of the web app, variables and comments do not.
    config = root / "assistant" / "config.py"
    _edit(config, "    dense_weight: float = 0.4", "    dense_weight: float = 0.5")
    _edit(config, "MAX_TURNS = 30", "MAX_TURNS = 31")
    _edit(config, "MAX_CHARS_PER_WORD = 40", "MAX_CHARS_PER_WORD = 40  # a comment")
    _edit(config, "def env(name: str) -> str:", "def env(name: str, unused: int = 0) -> str:")
    assert _fingerprint_of(root, tmp_path)[0]["digest"] == chunk_fingerprint(ChunkSettings())


def test_a_bytecode_only_install_hashes_the_whole_package(tmp_path):
    """Without chunker.py its imports cannot be read, so every module file counts (safe, if coarse)."""
    root = _copy(tmp_path, "compiled")
    source = root / "assistant" / "ingest" / "chunker.py"
    py_compile.compile(str(source), cfile=str(source.with_suffix(".pyc")), doraise=True)
    source.unlink()
    compiled, _ = _fingerprint_of(root, tmp_path)
    assert "assistant.ingest.chunker.pyc" in compiled["modules"] and "assistant.retrieve.answer.py" in compiled["modules"]
    assert compiled["digest"] != chunk_fingerprint(ChunkSettings())


def test_settings_are_in_the_fingerprint():
    prints = {chunk_fingerprint(s) for s in (ChunkSettings(), ChunkSettings(max_words=100), ChunkSettings(min_words=20),
                                             ChunkSettings(lead_in=False), ChunkSettings(max_chunks=10))}
    assert len(prints) == 5
    assert chunk_fingerprint(ChunkSettings(max_words=100)) == chunk_fingerprint(ChunkSettings(max_words=100))


def test_stable_within_a_process_and_says_what_changed():
    first = fingerprint(ChunkSettings())
    from assistant.ingest import fingerprint as module

    module._environment.cache_clear()
    again = fingerprint(ChunkSettings())
    assert again == first and len(first.digest) == 64
    assert first.changes(first.to_dict()) == []
    old = first.to_dict()
    old["libraries"] = {**old["libraries"], "lxml": "1.0"}
    old["settings"] = {**old["settings"], "max_words": 100}
    assert first.changes(old) == [f"lxml 1.0 -> {first.libraries['lxml']}",
                                  f"settings {old['settings']!r} -> {first.settings!r}"]
    assert first.changes(None) == ["no fingerprint in the index"]


def test_content_hash_keys_exactly_what_is_encoded():
    text = "Boats  moor on the\neast wall. Fees are paid at the office.\n"
    doc = Document(source="harbour.txt", text=text, title="Harbour", sha256=content_hash(text), encoding="utf-8")
    chunk = chunk_document(doc)[0]
    passage, sentences = embedded_texts(chunk, doc.text)
    assert passage == chunk.search_text
    assert sentences == ["Boats moor on the east wall.", "Fees are paid at the office."]
    assert content_hash(sentences[0]) == hashlib.sha256(b"Boats moor on the east wall.").hexdigest()
    assert content_hash(sentences[0]) != content_hash(sentences[0] + " ")
    key = content_hash64(sentences[0])
    assert -(2**63) <= key < 2**63
    assert key == int.from_bytes(bytes.fromhex(content_hash(sentences[0]))[:8], "little", signed=True)
    assert content_hash("\ud800") != content_hash("\ud801")  # lone surrogates (undecodable names) hash too

