"""Which corpus files an index run must read: unchanged means unread.

A file is trusted unread when its size and modification time are those recorded when its
bytes were last read. A time recorded within the racy window (the file was written moments
before the run, so a second write in the same timestamp tick could go unnoticed) is never
trusted as such: the next run hashes the file once (hashing parses nothing) and, when the bytes
are the indexed ones, records the time as verified, so every later run trusts it. Files that
could not be read are remembered the same way, with their reason, so a broken or hostile file
is not handed to a reader again until it changes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..types import Skipped
from .reader import file_sha256

RACY_SECONDS = 2.0  # a file modified this close to the run may change again within its timestamp's granularity

Stat = tuple[int, int]  # (size, mtime_ns); mtime -1 when racy (never equal to a later stat)
Walked = tuple[str, "Path | None", "str | None"]  # (source, path, None) to read, or (source, None, why skipped)


@dataclass
class Plan:
    """The outcome of comparing the corpus folder with what the index recorded."""

    untouched: list[str] = field(default_factory=list)  # indexed files whose bytes are the indexed ones
    to_read: list[Walked] = field(default_factory=list)
    stats: dict[str, Stat] = field(default_factory=dict)  # (size, mtime) of each file to read, taken before reading
    skipped_again: list[Skipped] = field(default_factory=list)  # remembered as unreadable, bytes unchanged
    verified: dict[str, list] = field(default_factory=dict)  # source -> [sha256, size, mtime_ns] checked by hash
    remembered: dict[str, dict] = field(default_factory=dict)  # source -> manifest entry of a skip still valid


def plan_reads(walked: Iterable[Walked], indexed: dict[str, tuple[str, int, int]], skips: dict[str, dict],
               trusted: bool, allow_hard_links: bool = False) -> Plan:
    """Sort the walked files into untouched, remembered skips and files to read.

    `indexed` maps source -> (sha256, size, mtime_ns) as the index recorded it (verified times
    merged in); `skips` maps source -> the manifest's entry of a file skipped for its content
    (reason, sha256, size, mtime_ns). With `trusted` False (another chunking fingerprint or
    encoder) nothing recorded is trusted and every file is read.
    """
    plan = Plan()
    for source, path, reason in walked:
        stat = file_stat(path) if path is not None else None
        if not trusted or stat is None:
            plan.to_read.append((source, path, reason))
            if stat is not None:
                plan.stats[source] = stat
            continue
        known, skip = indexed.get(source), skips.get(source)
        if stat[1] >= 0 and known is not None and tuple(known[1:]) == stat:
            plan.untouched.append(source)
            continue
        if stat[1] >= 0 and skip is not None and (skip.get("size"), skip.get("mtime_ns")) == stat:
            plan.skipped_again.append(Skipped(source, skip["reason"], skip["sha256"]))
            plan.remembered[source] = skip
            continue
        if known is not None or skip is not None:  # recorded before: the same bytes need no reader
            digest = file_sha256(path, allow_hard_links)
            if digest is not None and known is not None and digest == known[0]:
                plan.untouched.append(source)
                if stat[1] >= 0:
                    plan.verified[source] = [digest, *stat]
                continue
            if digest is not None and skip is not None and digest == skip.get("sha256"):
                plan.skipped_again.append(Skipped(source, skip["reason"], digest))
                plan.remembered[source] = {**skip, "size": stat[0], "mtime_ns": stat[1]}
                continue
        plan.to_read.append((source, path, reason))
        plan.stats[source] = stat
    return plan


def skip_entries(skipped: list[Skipped], plan: Plan) -> list[dict]:
    """The manifest's record of skipped files; those skipped for their bytes keep hash, size and time."""
    entries = []
    for s in skipped:
        entry: dict = {"source": s.source, "reason": s.reason}
        remembered = plan.remembered.get(s.source)
        if remembered is not None:
            entry.update(sha256=remembered["sha256"], size=remembered.get("size"), mtime_ns=remembered.get("mtime_ns"))
        elif s.sha256 is not None and s.source in plan.stats:
            size, mtime = plan.stats[s.source]
            entry.update(sha256=s.sha256, size=size, mtime_ns=mtime)
        entries.append(entry)
    return entries


def remembered_skips(manifest: dict) -> dict[str, dict]:
    """The manifest's skips that were judged on the file's bytes (source -> entry)."""
    return {e["source"]: e for e in manifest.get("skipped") or () if isinstance(e, dict) and e.get("sha256")}


def with_verified(indexed: dict[str, tuple[str, int, int]], manifest: dict) -> dict[str, tuple[str, int, int]]:
    """The segments' recorded stats with the times verified by hash since (manifest "verified") applied."""
    merged = dict(indexed)
    for source, entry in (manifest.get("verified") or {}).items():
        known = merged.get(source)
        if known is not None and isinstance(entry, list) and len(entry) == 3 and entry[0] == known[0]:
            merged[source] = (entry[0], int(entry[1]), int(entry[2]))
    return merged


def file_stat(path: Path) -> Stat | None:
    """(size, mtime_ns) of a corpus file, as recorded to skip reading it next time if both are equal.

    A modification time within RACY_SECONDS of the run is recorded as -1 (never equal), as git does
    for "racily clean" files: a write in the same timestamp tick would otherwise go unnoticed.
    """
    try:
        st = path.lstat()
    except OSError:
        return None
    racy = st.st_mtime_ns >= (time.time() - RACY_SECONDS) * 1e9
    return st.st_size, -1 if racy else st.st_mtime_ns
