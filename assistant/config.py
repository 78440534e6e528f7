"""Settings in one place: every Settings dataclass, every user-facing limit, every environment variable.

A newcomer asking "what can be tuned, and where is it read?" finds it here. The modules that use a
setting import it from here under its old name (`assistant.retrieve.search.SearchSettings` still
works). `ASSISTANT_*` variables are read only through `env()` and its typed helpers below, each at
the moment it is needed, so a test's `monkeypatch.setenv` and the web app's `--no-watch` keep
working; tests/test_config.py checks that no other module reads one. `python -m assistant.config`
prints the README's table of variables, which the same test keeps in step.

The chunker and the readers import their settings and limits from here, so the chunk fingerprint
(assistant/ingest/fingerprint.py) hashes the definitions they import (and what those use), not
the whole file: tuning a search weight or a web limit re-reads no corpus. A chunk-path module
must import names from here (`from ..config import MAX_CELLS`), not the module, or every change
here counts. It imports nothing heavy: the sandbox worker and `assistant --help` load it.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass

from .errors import AssistantError

# --- Settings that decide an index's content (saved in its manifest) --------------------------


@dataclass(frozen=True)
class ChunkSettings:
    """Chunk size bounds in words; MiniLM reads ~180-200 words, so max stays well below."""

    max_words: int = 120
    min_words: int = 25
    lead_in: bool = True  # see chunker._with_lead_ins
    # What one file may add: its first passages, at most max_chunks of them (about 240,000 words of
    # prose) and at most max_texts texts to embed (passages and their sentences: 10,000 is about
    # 100 s on 2 cores, the slow step); the indexer says when a file is cut.
    max_chunks: int = 2000
    max_texts: int = 10_000

    def to_dict(self) -> dict:
        """The settings for the manifest; what else decides chunk output is in assistant.ingest.fingerprint."""
        return asdict(self)


MAX_WORDS_RANGE = (20, 400)  # what `assistant index --max-words` accepts
# A passage is also bounded in characters: max_words words of at most this many characters on
# average. Prose averages 6 and code under 20, so only text with giant "words" (a file that is one
# word, encoded data) is split by it, into windows of max_words * 12 characters (see chunker._windows).
MAX_CHARS_PER_WORD = 40

QUANTIZERS = ("sq8", "pq")


@dataclass(frozen=True)
class DenseSettings:
    """How a segment's vectors are indexed; `to_dict()` goes into the manifest."""

    exact_below: int = 20_000  # flat SQ8: 1.6 ms a query at 20k, 7 ms at 100k, 67 ms at 1M
    nlist_per_sqrt: float = 2.0  # IVF lists ~ 2*sqrt(n), a power of two: 2048 at 1M (4096: same recall)
    nlist_max: int = 8192
    nprobe: int = 32  # lists scanned per query: recall stopped rising at 16 on the 1M sweep, 32 is margin for real data
    train_per_list: int = 40  # k-means sample: this many vectors per list, capped by train_max
    train_max: int = 200_000
    quantizer: str = "sq8"  # "sq8" (384 bytes a vector) or "pq" (pq_m bytes; recall@10 0.56-0.70 at 100k)
    pq_m: int = 48
    seed: int = 1234

    def __post_init__(self) -> None:
        if self.quantizer not in QUANTIZERS:
            raise ValueError(f"quantizer must be one of {QUANTIZERS}, not {self.quantizer!r}")

    def nlist(self, n: int) -> int:
        """Number of IVF lists for n vectors: a power of two near nlist_per_sqrt * sqrt(n)."""
        target = max(1.0, self.nlist_per_sqrt * math.sqrt(max(n, 1)))
        return int(min(self.nlist_max, max(16, 2 ** round(math.log2(target)))))

    def train_size(self, n: int) -> int:
        return int(min(n, self.train_max, max(self.nlist(n) * self.train_per_list, 10_000)))

    def to_dict(self) -> dict:
        return asdict(self)


# Encoders (ASSISTANT_ENCODER): fp32 ONNX gives the torch model's vectors (cosine 1.0000), so indexes
# of either serve questions encoded by the other; int8 vectors differ slightly and need an int8 index.
ENCODERS = ("fp32", "int8", "torch")

# --- Settings of a question (chosen per Assistant; `assistant eval` measures them) ------------

MODES = ("hybrid", "dense", "keyword", "rrf")


@dataclass(frozen=True)
class SearchSettings:
    mode: str = "hybrid"
    dense_weight: float = 0.4  # hybrid: weight of cosine; keyword gets 1 - dense_weight
    candidates: int = 50
    keyword_floor: float = 0.3  # see search(): share of the ideal BM25 score used as the least scale
    rrf_k: int = 60
    history_weight: float = 0.5  # weight of the latest earlier question in a follow-up
    history_decay: float = 0.5  # each older question counts this much less
    continuity: float = 0.1  # bonus for the passage that answered the previous question
    rerank: int = 15  # top candidates re-scored by their best-matching sentence
    sentence_weight: float = 0.5  # weight of that best sentence cosine in the final score
    own_share: float = 0.65  # after history, the question's own results win when the conversation's top
    # passage matches the question by itself less than this share as well as theirs does (retrieve/followup.choose)...
    own_share_referring: float = 0.55  # ...or this share, for a question with a pronoun pointing back


@dataclass(frozen=True)
class AnswerSettings:
    passages: int = 1  # how many top passages the answer sentence may come from
    semantic_weight: float = 1.0
    lexical_weight: float = 1.0
    rank_weight: float = 0.3
    type_weight: float = 0.2  # bonus for a sentence holding the kind of thing asked for (a number for "how many")
    code_weight: float = 0.4  # the same for a command or syntax: a code line gets it all, inline code half (dev sets)
    list_reach: int = 4  # after a sentence announcing a list, how many items the answer may run on to
    join_back: bool = True  # an answer sentence opening with "It", "This"... takes the sentence before it
    pair_ratio: float = 0.8  # join the neighbouring sentence when it scores at least this share of the best
    threshold: float = 0.22  # best cosine of (history-aware) question and passage below which we abstain...
    sentence_threshold: float = 0.45  # ...unless one sentence of a top passage reaches this cosine
    absent_terms: bool = False  # abstain when a distinctive term of the question occurs nowhere in the corpus (off: see README)
    leans_on_history: float = 0.5  # a follow-up leans on the conversation when the corpus knows this share of its words
    strong: float = 0.8  # a passage scoring at least this share of the best one is a strong match


# --- Limits (SECURITY.md's table): each bounds a request's or a file's cost ---------------------

MIB = 1024 * 1024
# Questions (api.py, the web app and the CLI alike)
MAX_QUESTION_CHARS = 2000
# Only this much of a question is ever looked at: a 50 MB question costs what a 16,000-character
# one does (tidying whitespace can shorten the text, so more than MAX_QUESTION_CHARS is read).
MAX_QUESTION_READ = 8 * MAX_QUESTION_CHARS
MAX_HISTORY = 20  # earlier questions looked at, the latest ones (the search blends the last 3)
MAX_K = 50
# The web app
QUEUE_MAX_SIZE = 64  # beyond this Gradio answers "This application is currently busy. Please try again."
CONCURRENCY = 2  # one model call per core on a 2-core machine
MAX_TURNS = 30  # turns the page keeps in its transcript; older ones leave the page, not the index
MAX_TYPED_CHARS = 10 * MAX_QUESTION_CHARS  # the question box's own limit; the server cuts to MAX_QUESTION_CHARS
MAX_REQUEST_BYTES = 256 * 1024  # a question (2,000 characters) and 20 earlier ones, even \u-escaped
MAX_FILE_SIZE = "1mb"  # without "Add documents", this bounds each file Gradio's /upload route accepts
MAX_UPLOAD_REQUEST_BYTES = 10 * MIB  # one POST to the upload route
MAX_UPLOAD_FILES = 20  # files in one upload request
MAX_UPLOAD_TOTAL_BYTES = 100 * MIB  # all uploads kept in the app's temporary folder
MAX_UPLOAD_TOTAL_FILES = 1000
# Reading a corpus file
MAX_FILE_BYTES = 20 * MIB  # larger files are skipped with a reason, not read into memory
MAX_UPLOAD_BYTES = MAX_FILE_BYTES  # a larger upload would be saved, then skipped by the indexer
READ_MEMORY_MB = 1024  # the reading worker's whole address space, interpreter and libraries included (about 70 MB)
READ_SECONDS = 240  # per file; a 20 MiB text PDF reads in seconds, OCR stops itself at 150 s (readers/ocr.py)
OCR_MAX_PAGES = 30  # pages OCR'd per file; a longer scan is read in part (the reader's time limit is ~300 s)
OCR_SECONDS = 150.0  # OCR time per file, all pages together
MAX_PIXELS = 40_000_000  # a larger image is scaled down before OCR (memory under the reader's limit)
MAX_IMAGE_PIXELS = 100_000_000  # Pillow's decompression-bomb guard, set explicitly
MAX_EXPANDED_BYTES = 512 * MIB  # zip-based files: all members together, inflated
MAX_MEMBERS = 20_000  # entries in one container
MAX_RATIO = 200  # a member this many times its compressed size (and large) is a bomb, not a document
RATIO_FLOOR = 16 * MIB  # members smaller than this may compress as well as they like
MAX_CELLS = 100_000  # cells read from one file (all its sheets; an empty row counts as one); the rest is cut
MAX_REPEAT = 100  # a cell or row "repeated" 16,384 times is formatting: its text is kept at most this often
MAX_MESSAGES = 10_000  # messages read from one mailbox file; the rest are cut
MAX_CHAPTERS = 2_000  # spine entries read from one book
LEGACY_SECONDS = 60  # one .doc/.ppt conversion; a program that takes longer is stopped and the file skipped
LEGACY_OUTPUT_BYTES = 64 * MIB  # text a converter may print
# The sample the CSV dialect is guessed from (csv.Sniffer's time grows as its square: 16 KB of quotes took 1.5 s).
SNIFF_CHARS = 4_096
# Longer "words" (encoded data, a file that is one long word) are never what a question types:
# they are left out of keyword search instead of filling the vocabulary and the stemmer.
MAX_TOKEN_CHARS = 100

# --- Environment variables ----------------------------------------------------------------------


@dataclass(frozen=True)
class Variable:
    """One environment variable: its value when unset or empty, its type, and what it does."""

    name: str
    default: str
    kind: str  # "text", "path", "number", "flag" (set or not), "choice"
    meaning: str
    shown: str = ""  # the default as the README says it, when `default` is computed elsewhere


VARIABLES = {v.name: v for v in (
    Variable("ASSISTANT_INDEX", "index", "path", "the index folder the CLI and the web app use"),
    Variable("ASSISTANT_STORE", "", "text", "a Milvus location (milvus://HOST:PORT/COLLECTION or "
             "milvus-lite:PATH.db/COLLECTION) used instead of the index folder; wins over ASSISTANT_INDEX"),
    Variable("ASSISTANT_CORPUS", "corpus", "path", "the corpus folder `assistant index` reads"),
    Variable("ASSISTANT_AUTH", "", "path", "the users-and-tokens file (`assistant users`, sign-in); needed for "
             "sign-in when the index is a Milvus location, which has no folder to keep it in",
             "`auth.sqlite` in the index folder"),
    Variable("ASSISTANT_ENCODER", "fp32", "choice", f"the encoder: {', '.join(ENCODERS)}"),
    Variable("ASSISTANT_CACHE", "", "path", "where the ONNX export of the model is kept", "~/.cache/assistant"),
    Variable("ASSISTANT_READ_MEMORY_MB", str(READ_MEMORY_MB), "number",
             "the reading worker's memory cap in MB (its whole address space)"),
    Variable("ASSISTANT_READ_SECONDS", str(READ_SECONDS), "number", "seconds the reading worker may spend on one file"),
    Variable("ASSISTANT_SANDBOX_MEMORY", "", "number", "set by the indexer for its reading worker (the cap in bytes); "
             "not for users", "ASSISTANT_READ_MEMORY_MB in bytes"),
    Variable("ASSISTANT_PROGRESS_SECONDS", "5.0", "number",
             "seconds between progress lines when stderr is not a terminal (and before the first)"),
    Variable("ASSISTANT_WATCH", "", "choice", "`0` (or off, no, false) stops the web app watching the corpus "
             "folder; `poll` polls it (there and in `assistant index --watch`) instead of using file events",
             "on (file events)"),
    Variable("ASSISTANT_UPLOAD", "", "choice", "`0` turns the web app's Add documents off; `1` turns it on "
             "for an app exposed beyond 127.0.0.1 (see SECURITY.md)", "on only on 127.0.0.1"),
    Variable("ASSISTANT_ALLOWED_HOSTS", "", "text", "more host names the web app answers to, comma-separated "
             "(a reverse proxy's public name)", "loopback and the bound address"),
    Variable("ASSISTANT_MONITORING", "", "flag", "`1` turns on Gradio's /monitoring dashboard", "off"),
    Variable("ASSISTANT_DEBUG", "", "flag", "any value shows tracebacks and the reading worker's stderr", "off"),
    Variable("ASSISTANT_FAULT", "", "text", "test hook: kill:POINT or enospc:POINT fails indexing there", "off"),
    Variable("GRADIO_SERVER_NAME", "127.0.0.1", "text", "the address the web app binds"),
    Variable("GRADIO_SERVER_PORT", "7860", "number", "the port the web app listens on"),
    Variable("MILVUS_TOKEN", "", "text", "the token a Milvus server is opened with", "none"),
)}


def env(name: str) -> str:
    """The variable's value, or its default when unset or empty. `name` must be in VARIABLES."""
    return os.environ.get(name) or VARIABLES[name].default


def env_number(name: str) -> float:
    """A positive number from the environment, else the default; a bad value is one line."""
    raw = env(name)
    try:
        value = float(raw)
    except ValueError:
        raise AssistantError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise AssistantError(f"{name} must be positive")
    return value


def environment_table() -> str:
    """The README's table of environment variables (README.md, "Settings")."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for v in VARIABLES.values():
        default = v.shown or (f"`{v.default}`" if v.default else "unset")
        rows.append(f"| `{v.name}` | {default} | {v.meaning} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(environment_table())
