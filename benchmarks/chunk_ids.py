"""The chunks a corpus gives, without the model: to check that a change to reading or chunking
keeps every chunk id (and section) of every corpus.

Usage: python benchmarks/chunk_ids.py CORPUS OUT.json [--detail]

Reads every file of CORPUS as the indexer does (`reader.read_document`, with the Document sent
through its stored row as the sandbox sends it), chunks it with `chunker.chunks_within_limit`
under the default settings, and writes the sorted rows [source, chunk id, section, start, end]
as JSON (chunk ids from `index/keys.py`). `--detail` adds the SHA-256 of each chunk's
search_text and of its answer-unit spans: what is embedded, so a difference there moves eval
figures even where ids hold. Compare two runs with `diff` or `python -m json.tool`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from assistant.index.keys import chunk_id, id_text
from assistant.ingest.chunker import ChunkSettings, chunks_within_limit
from assistant.ingest.reader import iter_files, read_document
from assistant.types import Document


def rows(corpus: Path, detail: bool = False) -> list[list]:
    """[source, chunk id, section, start, end] (plus two digests with `detail`) per chunk, sorted."""
    out: list[list] = []
    for source, path, _ in iter_files(corpus):
        if path is None:
            continue
        doc = read_document(path, source)
        if not isinstance(doc, Document):
            continue
        doc = Document.from_row(doc.to_row())  # as the sandbox hands it to the indexer
        for chunk in chunks_within_limit(doc, ChunkSettings(), lambda _note: None, []):
            row = [chunk.source, id_text(chunk_id(chunk)), chunk.section, chunk.start, chunk.end]
            if detail:
                row += [_digest(chunk.search_text), _digest(json.dumps(chunk.sentences))]
            out.append(row)
    return sorted(out)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--detail", action="store_true", help="add digests of search_text and answer units")
    args = parser.parse_args()
    found = rows(args.corpus, args.detail)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text("[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in found) + "\n]\n", encoding="utf-8")
    tmp.replace(args.out)
    print(f"{args.corpus}: {len(found)} chunks, {len({r[0] for r in found})} files -> {args.out}")


if __name__ == "__main__":
    main()
