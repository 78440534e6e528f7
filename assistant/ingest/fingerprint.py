"""Fingerprints: when a stored file's chunks, and a stored text's vector, may be reused.

A file's chunks are a function of its bytes and of everything that turns bytes into chunks:
the source of every `assistant` module on the read-and-chunk path, the chunk settings, the
libraries that extract text (PDF, Word, HTML, reStructuredText) and the Python that runs it all (`re`, `str.split`
and `str.isupper` follow its Unicode tables). `chunk_fingerprint` hashes all of those, so a
re-index reuses a file only when its SHA-256 and this fingerprint both match; no one has to
remember to bump a version number. The modules are found by following the imports of
`assistant.ingest.reader` and `assistant.ingest.chunker` in their source, and of every reader module the
format table (`assistant.ingest.readers.FORMATS`) imports by name, so a new module on that path is
hashed without anyone listing it (tests/test_fingerprint.py checks this against what a real
read-and-chunk of every format imports).

A vector is a function of the exact string given to the encoder and of the encoder itself
(its weights' SHA-256 and variant, which the manifest already records and checks). `content_hash`
keys a vector by that string; `embedded_texts` is the one place that string is made.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import importlib.resources
import json
import sys
import unicodedata
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from ..text import normalize
from .readers import reader_modules

if TYPE_CHECKING:
    from .chunker import ChunkSettings

SCHEME = 2  # the layout of what is hashed below; bump only when this file changes what it hashes
PACKAGE = "assistant"
# What a corpus file goes through before its stored form exists: reading (all formats), chunking
# and the keyword postings a segment keeps for its chunks.
ROOTS = ("assistant.ingest.reader", "assistant.ingest.chunker", "assistant.index.bm25")
# Hashed by what the chunk path imports from it, not as a whole: assistant/config.py also holds
# the search, answer and web settings, and tuning those must not re-chunk every corpus.
SHARED = "assistant.config"
# Distributions whose code decides the text a reader extracts, the title, or the chunk spans
# (found by reading every format in a fresh interpreter and listing what it imported; the test
# does the same and fails on an imported distribution that is neither here nor in IGNORED).
LIBRARIES = (
    "markdown-it-py",  # Markdown blocks and inline markup
    "mdurl",  # markdown-it's link parsing, which decides what reads as a link
    "pypdfium2",  # PDF text, characters and their boxes (its wheel carries the PDFium binary)
    "python-docx",  # Word paragraphs, styles, tables
    "docutils",  # reStructuredText parsing: the document tree the .rst reader walks
    "trafilatura",  # which parts of an HTML page are content
    "jusText",  # trafilatura's fallback content finder (favor_recall)
    "lxml",  # HTML and XML parsing under trafilatura, python-docx and the HTML reader
    "lxml_html_clean",  # trafilatura's HTML cleaning
    "charset-normalizer",  # the encoding trafilatura guesses for HTML bytes without a declared one
    "courlan",  # trafilatura's link and URL filters, which drop some elements
    "tld",  # domain handling under courlan
    "htmldate",  # trafilatura's metadata, where the HTML title comes from
    "python-dateutil",  # date parsing under htmldate
    "babel",  # language data under courlan and htmldate
    "PyStemmer",  # keyword tokens (text.tokenize), kept beside the chunks by a keyword index
    "numpy",  # the keyword postings arrays (assistant/index/bm25.py)
    "pandas",  # numbers the keyword vocabulary (factorize) for the postings
    "scipy",  # counts the (term, chunk) pairs of the postings
    "python-pptx",  # PowerPoint slides, shapes, tables and notes
    "openpyxl",  # Excel .xlsx cells and their number formats
    "et_xmlfile",  # imported by openpyxl (its XML writer; reading goes through it too)
    "xlrd",  # Excel 97-2003 .xls cells and their number formats
    "striprtf",  # RTF control words removed, the text kept
    "olefile",  # Outlook .msg streams (the message's properties)
)
# Imported while reading, and why they cannot change extracted text or chunks.
IGNORED = {
    "certifi": "CA certificates, for downloads trafilatura never makes here (it is given bytes)",
    "urllib3": "HTTP client, for downloads trafilatura never makes here",
    "brotli": "decompression, whose output the Brotli format fixes",
    "typing_extensions": "type hints only",
    "Pygments": "imported by docutils' code directive; the .rst reader sets syntax_highlight 'none', so it never lexes",
    "pytz": "time zones, imported with pandas; no text passes through it",
    # With the cluster extra installed (pymilvus, Ray): pandas imports pyarrow, pyarrow cloudpickle.
    "pyarrow": "imported by pandas when installed; factorize gets a NumPy object array and hashes it itself",
    "cloudpickle": "imported by pyarrow for pickling, which reading and chunking never do",
    "pillow": "imported by python-pptx for pictures, whose pixels the reader never looks at",
    "XlsxWriter": "imported by python-pptx to write chart data, which reading never does",
}


@dataclass(frozen=True)
class Fingerprint:
    """The fingerprint and its parts: the parts go into the manifest to say *why* files were re-chunked."""

    digest: str
    modules: dict[str, str] = field(default_factory=dict)  # "assistant.ingest.chunker" -> SHA-256 of its source
    libraries: dict[str, str] = field(default_factory=dict)  # distribution -> version ("" if not installed)
    python: str = ""  # implementation and major.minor: the re engine and str methods (not patch releases)
    unicode: str = ""  # unicodedata.unidata_version: what isspace/isupper/\w mean
    settings: dict = field(default_factory=dict)  # ChunkSettings.to_dict()
    scheme: int = SCHEME

    def to_dict(self) -> dict:
        return asdict(self)

    def changes(self, old: dict | None) -> list[str]:
        """What differs from a stored fingerprint, in words ("assistant.ingest.chunker changed", "lxml 6.0 -> 6.1")."""
        if not old:
            return ["no fingerprint in the index"]
        found: list[str] = []
        for part in ("modules", "libraries"):
            before, now = old.get(part) or {}, getattr(self, part)
            for name in sorted(set(before) | set(now)):
                if before.get(name) != now.get(name):
                    found.append(f"{name} changed" if part == "modules"
                                 else f"{name} {before.get(name) or 'absent'} -> {now.get(name) or 'absent'}")
        found += [f"{part} {old.get(part)!r} -> {getattr(self, part)!r}"
                  for part in ("python", "unicode", "settings", "scheme") if old.get(part) != getattr(self, part)]
        return found or ([] if old.get("digest") == self.digest else ["fingerprint changed"])


def chunk_fingerprint(settings: ChunkSettings) -> str:
    """SHA-256 (hex) of everything that decides a file's chunks under `settings` (a ChunkSettings)."""
    return fingerprint(settings).digest


def fingerprint(settings: ChunkSettings) -> Fingerprint:
    """The fingerprint with its parts; the code and library part is computed once per process."""
    modules, libraries, python, unicode = _environment()
    parts = {"scheme": SCHEME, "modules": modules, "libraries": libraries, "python": python,
             "unicode": unicode, "settings": settings.to_dict()}
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return Fingerprint(digest, dict(modules), dict(libraries), python, unicode, parts["settings"])


@lru_cache(maxsize=1)
def _environment() -> tuple[dict[str, str], dict[str, str], str, str]:
    libraries = {name: _version(name) for name in LIBRARIES}
    python = f"{sys.implementation.name} {sys.version_info.major}.{sys.version_info.minor}"
    return module_hashes(ROOTS + reader_modules()), libraries, python, unicodedata.unidata_version


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return ""


def module_hashes(roots: tuple[str, ...] = ROOTS) -> dict[str, str]:
    """{module name: SHA-256 of its file} for the roots and every package module they import.

    Keyed by module name, not path, so the same code installed anywhere (editable, wheel, a
    copy) gives the same hashes. Importing a submodule runs its packages' `__init__` too, so
    those count. A module found only as bytecode (a .pyc-only install) does not show its
    imports; then every module file of the package, source or bytecode, is hashed instead, which
    can only re-chunk more often than needed, never reuse stale chunks. SHARED counts by the
    definitions the chunk path imports from it (`shared_definitions`), unless a module on the
    path imports it whole.
    """
    hashes: dict[str, str] = {}
    taken: set[str] = set()  # names imported from SHARED
    whole = False
    pending = [(name, True) for name in roots]  # (module, imported by name rather than as a parent)
    walked: set[tuple[str, bool]] = set()
    trees: dict[str, ast.Module] = {}  # a package is walked twice: as a parent, then imported by name
    while pending:
        name, named = pending.pop()
        if (name, named) in walked or (not named and (name, True) in walked):
            continue
        walked.add((name, named))
        parts = name.split(".")
        pending += [(".".join(parts[:i]), False) for i in range(1, len(parts))]
        found = _module_file(name)
        if found is None:  # a name imported from a module ("from .text import normalize"), not a module
            if name.startswith(SHARED + "."):
                taken.add(name.removeprefix(SHARED + "."))
            continue
        is_source, is_package, raw = found
        if not is_source:
            return _all_modules()
        hashes[name] = hashlib.sha256(raw).hexdigest()
        if name not in trees:
            trees[name] = ast.parse(raw)
        whole = whole or _imports_whole(trees[name], name, is_package)
        pending += [(module, True) for module in imported_modules(trees[name], name, is_package, named)]
    if SHARED in hashes and not whole:
        hashes[SHARED] = hashlib.sha256(shared_definitions(trees[SHARED], taken)).hexdigest()
    return dict(sorted(hashes.items()))


def shared_definitions(tree: ast.Module, names: set[str]) -> bytes:
    """The top-level statements defining `names` and every module-level name they use, in file
    order, as `ast.unparse` writes them (so a comment or a line break does not count)."""
    defined: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            defined[node.name] = node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined |= {n.id: node for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.Import | ast.ImportFrom):
            defined |= {(alias.asname or alias.name).split(".")[0]: node for alias in node.names}
    chosen: set[int] = set()
    pending = list(names)
    while pending:
        node = defined.get(pending.pop())
        if node is not None and id(node) not in chosen:
            chosen.add(id(node))
            pending += [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]
    return "\n".join(ast.unparse(node) for node in tree.body if id(node) in chosen).encode()


def _imports_whole(tree: ast.Module, module: str, is_package: bool) -> bool:
    """Whether a module imports SHARED as a module (`from .. import config`), not names from it."""
    package = module if is_package else module.rpartition(".")[0]
    for node in _statements(tree.body, True):
        if isinstance(node, ast.Import) and any(alias.name == SHARED for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and any(f"{_target(node, package)}.{a.name}" == SHARED for a in node.names):
            return True
    return False


def imported_modules(tree: ast.Module, module: str, is_package: bool = False, in_functions: bool = True) -> list[str]:
    """Every `assistant` module a parsed module may import: at top level, and inside its
    functions too unless `in_functions` is false (a package run only as the parent of a module
    imported by name: `assistant/__init__.py`'s lazy imports run only when its names are used)."""
    package = module if is_package else module.rpartition(".")[0]
    names: list[str] = []
    for node in _statements(tree.body, in_functions):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _target(node, package)
            names.append(target)
            names += [f"{target}.{alias.name}" for alias in node.names]  # `from . import types`
    return [n for n in names if n == PACKAGE or n.startswith(PACKAGE + ".")]


def _target(node: ast.ImportFrom, package: str) -> str:
    """The absolute module a `from ... import` statement imports from."""
    if not node.level:
        return node.module or ""
    base = package.split(".")
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _statements(body: list, in_functions: bool):
    """Every statement, nested ones too (imports are statements, so expressions need no visit)."""
    for node in body:
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not in_functions:
            continue
        for field_name in ("body", "orelse", "finalbody", "handlers", "cases"):
            for child in getattr(node, field_name, ()):
                yield from _statements([child] if isinstance(child, ast.stmt) else child.body, in_functions)


def _module_file(name: str) -> tuple[bool, bool, bytes] | None:
    """(is source, is package, bytes) of a package module, read through importlib.resources
    (so it works from a wheel, an editable install or a zip); None if `name` is not a module."""
    path = name.split(".")[1:]
    folder = importlib.resources.files(PACKAGE).joinpath(*path)
    if folder.is_dir():
        candidates = [(folder / "__init__.py", True, True), (folder / "__init__.pyc", False, True)]
    else:
        parent = importlib.resources.files(PACKAGE).joinpath(*path[:-1])
        candidates = [(parent / f"{path[-1]}.py", True, False), (parent / f"{path[-1]}.pyc", False, False)]
    for file, is_source, is_package in candidates:
        if file.is_file():
            return is_source, is_package, file.read_bytes()
    return None


def _all_modules() -> dict[str, str]:
    """Every module file of the package, sources and bytecode (the fallback when imports cannot be read)."""
    hashes: dict[str, str] = {}

    def walk(folder, prefix: str) -> None:
        for entry in folder.iterdir():
            if entry.is_dir() and entry.name != "__pycache__":
                walk(entry, f"{prefix}{entry.name}.")
            elif entry.name.endswith((".py", ".pyc")):
                hashes[prefix + entry.name] = hashlib.sha256(entry.read_bytes()).hexdigest()

    walk(importlib.resources.files(PACKAGE), PACKAGE + ".")
    return dict(sorted(hashes.items()))


# --- Per-text keys for reusing vectors ---------------------------------------------------------


def embedded_texts(chunk, document_text: str) -> tuple[str, list[str]]:
    """The exact strings the encoder is given for one chunk: its `search_text` (title, file words,
    section, lead-in and visible text, already normalized by the chunker) and each answer unit's
    text, `normalize(document_text[start:end])`. The indexer must build the encoder's input with
    this function, so that the keys below are always taken over what was really encoded."""
    return chunk.search_text, [normalize(document_text[s:e]) for s, e in chunk.sentences]


def content_hash(text: str) -> str:
    """SHA-256 (hex) of the UTF-8 bytes of a string given to the encoder: its vector's key.

    The encoder is deterministic on its input string (tokenizing, truncating at the model's
    length, pooling and normalizing all happen inside it), so two equal strings have the same
    vector under the same encoder; the key says nothing about the encoder, whose identity the
    manifest checks before anything is reused.
    """
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def content_hash64(text: str) -> int:
    """The first 8 bytes of `content_hash` as a signed int64, for a compact numpy column of keys.

    Two different texts share a key with probability about n^2 / 2^65: about one in a million
    for six million texts (a million chunks and their sentences). Use `content_hash` where a
    wrong vector must be impossible rather than unlikely.
    """
    return int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:8], "little", signed=True)
