"""Writing the local store: a commit adds at most one segment, marks deletions, maybe merges.

A commit writes the new segment in a `.tmp` folder, fsyncs and renames it, then replaces the
manifest (the commit point) and only then removes segments no manifest needs. Work is
proportional to what changed: unchanged segments are not read or rewritten, only listed again.
Segments are merged, as Lucene does, when there are more than MAX_SEGMENTS of them (the
smallest MERGE_FACTOR together) or when most of a segment's chunks are deleted.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from pathlib import Path

import numpy as np

from ..embed.base import DIMENSION
from ..errors import AssistantError
from .dense import DenseSettings
from .folder import MANIFEST, fault_point, fsync_dir
from .manifest import FORMAT, FORMAT_VERSION, SEGMENT, file_entry, write_manifest
from .segment import Segment, SegmentData, read_back, write_segment
from .spill import spill_folder

MAX_SEGMENTS = 8
MERGE_FACTOR = 4
MAX_DELETED_SHARE = 0.5


class LocalWriter:
    """Collects one commit's deletions and new documents for an index folder (under its write lock)."""

    def __init__(self, index_dir: Path, base=None, dense: DenseSettings = DenseSettings()) -> None:
        """`base` is the committed index as an open LocalStore (None: a new or unreadable index)."""
        self.index_dir, self.dense, self.base = index_dir, dense, base
        self.previous = base.manifest if base is not None else None
        self.segments = [dict(s, deleted=list(s.get("deleted") or []), deleted_chunks=int(s.get("deleted_chunks", 0)))
                         for s in (self.previous or {}).get("segments", [])]
        self.files = dict((self.previous or {}).get("files", {}))
        self._pending: SegmentData | None = None
        self._sources: dict[str, int] = {}  # live source -> the base segment holding it
        if base is not None:
            for i, segment in enumerate(base.segments):
                deleted = set(self.segments[i]["deleted"])
                self._sources.update((source, i) for source in segment.source_names() if source not in deleted)

    def delete(self, sources) -> None:
        """Mark documents deleted in the segments holding them (recorded in the manifest only)."""
        for source in sources:
            s = self._sources.pop(source, None)
            if s is not None:
                self.segments[s]["deleted"].append(source)
                self.segments[s]["deleted_chunks"] += len(self.base.segments[s].seqs_of_sources([source]))

    def spill(self):
        """A scratch folder inside the index folder for this commit's vectors while they are made."""
        return spill_folder(self.index_dir, self.index_dir)

    def add(self, data: SegmentData) -> None:
        """Documents for the new segment; any earlier version of them must be deleted first."""
        if self._pending is not None:
            raise ValueError("one new segment per commit")
        self._pending = data

    def commit(self, fields: dict) -> dict:
        """Write the new segment and manifest; returns the manifest. Any OSError leaves the old index."""
        written: list[Path] = []
        tmp_manifest = self.index_dir / f"{MANIFEST}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            fault_point("started")
            if self._pending is not None and (self._pending.documents or len(self._pending.ids)):
                self._write(self._pending, written)
            self._merge(written)
            manifest = self._manifest(fields)
            write_manifest(tmp_manifest, manifest)
            fault_point("manifest-written")
            os.replace(tmp_manifest, self.index_dir / MANIFEST)  # the commit point
        except OSError as exc:
            for path in written:
                shutil.rmtree(path, ignore_errors=True)
                shutil.rmtree(path.with_name(path.name + ".tmp"), ignore_errors=True)
            with contextlib.suppress(OSError):
                tmp_manifest.unlink()
            raise AssistantError(f"could not write the index at {self.index_dir} ({exc.strerror or exc}); "
                                 "the previous index is unchanged") from exc
        fault_point("committed")
        with contextlib.suppress(OSError):  # committed already; this only hurries durability
            fsync_dir(self.index_dir)
        clean_segments(self.index_dir, manifest, self.previous)
        return manifest

    def _write(self, data: SegmentData, written: list[Path]) -> None:
        name = f"seg-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        final = self.index_dir / name
        tmp = final.with_name(name + ".tmp")
        written.append(final)
        tmp.mkdir()
        names, stats = write_segment(tmp, data, self.dense)
        fault_point("segment-written")
        for file in names:
            with open(tmp / file, "rb") as handle:
                os.fsync(handle.fileno())
        fsync_dir(tmp)
        os.replace(tmp, final)
        fsync_dir(self.index_dir)
        fault_point("segment-renamed")
        for file in names:
            self.files[f"{name}/{file}"] = file_entry(final / file)
        self.segments.append({"name": name, **stats, "deleted": [], "deleted_chunks": 0})

    def _merge(self, written: list[Path]) -> None:
        """Rewrite mostly-deleted segments, and the smallest ones when there are too many."""
        live = [s["chunks"] - s["deleted_chunks"] for s in self.segments]
        chosen = {i for i, s in enumerate(self.segments) if s["deleted"] and live[i] < MAX_DELETED_SHARE * s["chunks"]}
        if len(self.segments) > MAX_SEGMENTS:
            chosen |= set(sorted(range(len(self.segments)), key=lambda i: live[i])[:MERGE_FACTOR])
        if not chosen:
            return
        parts = []
        for i in sorted(chosen):
            segment = Segment(self.index_dir / self.segments[i]["name"])
            try:
                parts.append(read_back(segment, set(self.segments[i]["deleted"])))
            finally:
                segment.close()
        keep = [s for i, s in enumerate(self.segments) if i not in chosen]
        dropped = {self.segments[i]["name"] for i in chosen}
        self.segments = keep
        self.files = {k: v for k, v in self.files.items() if k.split("/")[0] not in dropped}
        merged = _concat(parts)
        if len(merged.ids) or merged.documents:
            self._write(merged, written)

    def _manifest(self, fields: dict) -> dict:
        # A segment whose every document is deleted is dropped from the manifest.
        segments = [s for s in self.segments if s["documents"] > len(s["deleted"])]
        names = {s["name"] for s in segments}
        files = {k: v for k, v in self.files.items() if k.split("/")[0] in names}
        counts = {"documents": sum(s["documents"] - len(s["deleted"]) for s in segments),
                  "chunks": sum(s["chunks"] - s["deleted_chunks"] for s in segments),
                  "segments": len(segments)}
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                **fields, "dense": self.dense.to_dict(), "counts": {**counts, **fields.get("counts", {})},
                "segments": segments, "files": files}


def _concat(parts: list[SegmentData]) -> SegmentData:
    def cat(arrays, dtype, width=None):
        empty = np.zeros((0, width) if width else 0, dtype=dtype)
        return np.concatenate([empty, *[np.asarray(a, dtype=dtype) for a in arrays]])

    return SegmentData([d for p in parts for d in p.documents], [c for p in parts for c in p.chunks],
                       cat([p.ids for p in parts], np.int64), cat([p.vec_keys for p in parts], np.int64),
                       cat([p.vectors for p in parts], np.float32, DIMENSION),
                       cat([p.sentence_codes for p in parts], np.int8, DIMENSION),
                       cat([p.sentence_scales for p in parts], np.float32),
                       cat([p.sentence_keys for p in parts], np.int64),
                       file_stats={k: v for p in parts for k, v in p.file_stats.items()})


def clean_segments(index_dir: Path, current: dict | None, previous: dict | None) -> None:
    """Remove leftovers of crashed runs and segments neither the current nor the previous manifest uses.

    The previous manifest's segments are kept so that a reader which read it just before the
    switch can still open its files.
    """
    keep = {s["name"] for m in (current, previous) if m for s in m.get("segments", [])}
    for entry in index_dir.iterdir():
        name = entry.name
        stale = name.endswith(".tmp") or (SEGMENT.fullmatch(name) and name not in keep) or name.startswith("gen-")
        if stale:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    entry.unlink()
