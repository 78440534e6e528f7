"""`assistant verify` on a Milvus store: every chunk, sentence and document agree with each other."""

from __future__ import annotations

from ..errors import IndexCorruptError
from .keys import doc_key
from .milvus import MilvusLocation, MilvusStore, chunk_body, scan
from .milvus_keyword import KeywordStats


def verify(location: MilvusLocation) -> dict:
    """Check that every chunk, sentence and document of the collection agree with each other and
    with the manifest: what `assistant verify` runs on a Milvus store."""
    store = MilvusStore.open(location, for_update=True)
    try:
        chunks = scan(store.client, store.name, "id >= 0", ["id", "doc", "body"])
        sentences = scan(store.client, f"{store.name}_sentences", "pk >= 0", ["chunk"])
        sources = store.sources()
        docs = {doc_key(s.source) for s in sources}
        problems = []
        orphans = sum(1 for r in chunks if int(r["doc"]) not in docs)
        if orphans:
            problems.append(f"{orphans} chunks of no indexed document")
        ids = {int(r["id"]) for r in chunks}
        expected = sum(len(chunk_body(store.client, store.name, r)["sentences"]) for r in chunks)
        if len(sentences) != expected or any(int(r["chunk"]) not in ids for r in sentences):
            problems.append(f"{len(sentences)} sentence rows where the chunks have {expected}")
        if sum(s.chunks for s in sources) != len(chunks):
            problems.append(f"the documents list {sum(s.chunks for s in sources)} chunks, the collection holds {len(chunks)}")
        stats = KeywordStats.of(store.manifest)
        if stats is not None and stats.n_docs != len(chunks):
            problems.append(f"keyword statistics count {stats.n_docs} chunks, the collection holds {len(chunks)}")
        for info in sources:
            if store.document(info.source) is None:
                problems.append(f"document {info.source} cannot be read")
        if problems:
            raise IndexCorruptError(f"index at {location} is inconsistent: {'; '.join(problems[:3])}: "
                                    f"run `assistant index --corpus DIR --store {location}` to repair it")
        return {"chunks": len(chunks), "sentences": len(sentences), "documents": len(sources)}
    finally:
        store.close()
