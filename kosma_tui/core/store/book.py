"""Bank Transactions of one account, in chunks, so that a sync appending a page
to 100,000 stored rows writes a few thousand rows, never the history.

Folder ``store/transactions/<account.key>/``:

- ``YYYY-MM.NNN.json``: rows dated in one month (TinyDB table ``transactions``,
  doc id -> row without ``raw``), at most ``CHUNK_ROWS``; undated rows use
  month ``0000-00``. Only the newest chunk of a month grows, and only while it
  holds fewer than ``GROW_LIMIT`` rows, so an append rewrites at most that many.
- ``YYYY-MM.NNN.raw.json.gz``: the provider objects of those rows (table ``raw``,
  same doc ids), gzip-compressed (``gzip -dc`` reads it): they repeat what the
  rows hold, so they shrink to a fifth or less. Each append adds a gzip member
  (the file is a valid gzip stream after every write) before a fixed last
  member that closes the JSON, so an append compresses only the new rows. Kept
  apart so that listing 100,000 rows does not read them. A store written
  before had them as plain ``YYYY-MM.NNN.raw.json``: read as they are, and
  replaced by the compressed file the first time their chunk is written.
- ``YYYY-MM.NNN.ids.json``: ``{transaction_id: status}`` of the chunk (derived).
- ``YYYY-MM.NNN.find.txt``: one search line per row, what the filter reads
  instead of the rows (derived; see ``search``; built when missing).
- ``index.json``: every chunk with its row count, date range, the ids of its
  Pending rows and the fingerprints (inode, size, mtime) of its files (derived).

Memory follows the months a call touches, not the history: deduplication
reads the ids of the months the new rows fall in (a sync also the month on
either side, for a bank that moves a value date), plus the Pending rows of
every month from the index (the only ones whose date may still change); at
most ``SHARDS_CACHED`` chunks' ids stay cached.

A write creates ``writing.marker``, then writes raw -> rows (fsynced) -> ids,
find -> index, each file atomically, and removes the marker; the index is the
commit record. The files are compared with the index (inode, size, mtime of each) the
first time a process uses the book and whenever it finds the marker under the
lock (a writer died between its chunk files and its index): a chunk that does
not match is read again and its ids and index entry are rebuilt, so dedup
never misses a stored row. A rows or raw file that cannot be parsed is a
``StoreError`` and is left as it is; a broken ids file or index is rebuilt,
and search lines that are missing or not those the index recorded are
rebuilt from the rows when a filter reads them.
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson

from kosma_tui.core.atomic import Fingerprint, atomic_write, fsync_dir
from kosma_tui.core.errors import StoreError
from kosma_tui.core.paths import make_private_dir
from kosma_tui.core.store.files import (
    corrupt,
    fingerprint,
    no_gc,
    parse,
    read_bytes,
    read_json,
    remove_temp_files,
)
from kosma_tui.core.store.search import (
    Query,
    doc_id,
    matching_lines,
    normalise,
    search_lines,
)

CHUNK_ROWS = 5_000  # rows per chunk file at most
GROW_LIMIT = 1_000  # a month's newest chunk takes more rows only while smaller than this
SHARDS_CACHED = 24  # chunks whose ids stay in memory: a few months, whatever the history
INDEX_FORMAT = 2  # 2 added each chunk's Pending ids; a format 1 index is completed on load
UNDATED = "0000-00"
ROWS_TABLE = "transactions"
RAW_TABLE = "raw"
_SUFFIX = {
    "rows": ".json",
    "raw": ".raw.json.gz",
    "ids": ".ids.json",
    "find": ".find.txt",
    "plain": ".raw.json",
}  # plain: the provider objects as stores before kept them
_KIND = {suffix: kind for kind, suffix in _SUFFIX.items()}
_FILE = re.compile(
    r"^(\d{4}-\d{2}\.\d{3,})(\.raw\.json\.gz|\.raw\.json|\.ids\.json|\.find\.txt|\.json)$"
)


def _gz(data: bytes) -> bytes:
    """One gzip member: level 1 compresses JSON some 5x at 300 MB/s (a sync barely notices)."""
    return gzip.compress(data, compresslevel=1, mtime=0)


_GZ_CLOSE = _gz(b"}}")  # the last member of every raw file: closes the table and the object

# (date, chunk, doc id as its search line writes it) of a row the filter found
Hit = tuple[bytes, str, bytes]

Row = dict[str, Any]
_ABSENT: Any = object()


def _month(prefix: str) -> str:
    """The chunk month for the first 7 characters of a date."""
    if len(prefix) == 7 and prefix[4] == "-" and prefix[:4].isdigit() and prefix[5:].isdigit():
        return prefix
    return UNDATED


def month_of(day: object) -> str:
    """The chunk month a row dated ``day`` is stored in."""
    return _month(day[:7]) if isinstance(day, str) else UNDATED


def with_neighbours(months: Iterable[str]) -> set[str]:
    """The months, the month before and after each, and the undated month: where a
    transaction already stored may be when it comes again."""
    result = {UNDATED}
    for month in months:
        result.add(month)
        if month != UNDATED:
            year, number = int(month[:4]), int(month[5:])
            before = (year, number - 1) if number > 1 else (year - 1, 12)
            after = (year, number + 1) if number < 12 else (year + 1, 1)
            result.update(f"{y:04d}-{m:02d}" for y, m in (before, after))
    return result


def _date(row: Row) -> str:
    return row.get("date") or ""


@dataclass
class _Chunk:
    name: str  # "2024-05.001"
    rows: int = 0
    next_id: int = 1
    oldest: str = ""  # over dated rows; "" when none
    newest: str = ""
    undated: int = 0
    files: dict[str, list[int]] = field(default_factory=dict)  # rows/raw/ids/find -> fingerprint
    pending: list[str] | None = None  # ids of its Pending rows; None: not known yet
    named: int | None = None  # rows with a transaction id; None: not known yet
    settled: int | None = None  # of which Settled

    @property
    def month(self) -> str:
        return self.name.split(".")[0]

    @property
    def seq(self) -> int:
        return int(self.name.split(".")[1])

    @property
    def low(self) -> str:
        return "" if self.undated else self.oldest

    def order(self) -> tuple[str, int]:
        return (self.month, self.seq)

    def add_dates(self, dates: list[str]) -> None:
        """Widen the date range by the dates of added rows."""
        dated = [d for d in dates if d]
        self.undated += len(dates) - len(dated)
        if dated:
            oldest, newest = min(dated), max(dated)
            if not self.oldest or oldest < self.oldest:
                self.oldest = oldest
            self.newest = max(self.newest, newest)

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "next_id": self.next_id,
            "oldest": self.oldest,
            "newest": self.newest,
            "undated": self.undated,
            "files": self.files,
            "pending": self.pending or [],
            "named": self.named or 0,
            "settled": self.settled or 0,
        }


class TransactionBook:
    """The Bank Transactions of one account (rows are dicts of TRANSACTION_FIELDS).

    Obtain it with ``Store.book(account)``. Every method takes the store lock
    and sees what other processes wrote before it.
    """

    def __init__(
        self, folder: Path, account_name: str, lock: Callable[[], AbstractContextManager[None]]
    ) -> None:
        self.folder = folder
        self.account_name = account_name
        self._lock = lock
        self._index_file = folder / "index.json"
        self._marker = folder / "writing.marker"
        self._verified = False
        self._chunks: dict[str, _Chunk] = {}
        self._index_print: Fingerprint | None = None
        self._loaded = False
        self._cleaned = False
        # chunk -> {transaction_id: status}, the most recently used last
        self._shards: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._shard_prints: dict[str, list[int]] = {}

    # -- reading -------------------------------------------------------------

    def ids(self) -> dict[str, str]:
        """transaction_id -> status of every stored row that has an id (reads the ids of
        the whole history: a sync uses ``statuses`` and ``pending``)."""
        with self._lock():
            self._refresh()
            result: dict[str, str] = {}
            for chunk in sorted(self._chunks.values(), key=_Chunk.order):
                result.update(self._shard(chunk))
            return result

    def statuses(self, months: Iterable[str]) -> dict[str, dict[str, str]]:
        """month -> {transaction_id: status} of the rows stored in those months."""
        wanted = set(months)
        with self._lock():
            self._refresh()
            result: dict[str, dict[str, str]] = {m: {} for m in wanted}
            for chunk in sorted(self._chunks.values(), key=_Chunk.order):
                if chunk.month in wanted:
                    result[chunk.month].update(self._shard(chunk))
            return result

    def tally(self) -> list[int]:
        """[rows with a transaction id, of which Settled], from the index (no chunk read):
        what ``balance_check.fingerprint`` makes of ``ids()``."""
        with self._lock():
            self._refresh()
            chunks = self._chunks.values()
            return [sum(c.named or 0 for c in chunks), sum(c.settled or 0 for c in chunks)]

    def pending(self) -> dict[str, str]:
        """transaction_id -> "Pending" of every Pending row (from the index: no chunk read)."""
        with self._lock():
            self._refresh()
            return {tid: "Pending" for c in self._chunks.values() for tid in c.pending or ()}

    def count(self) -> int:
        with self._lock():
            self._refresh()
            return sum(c.rows for c in self._chunks.values())

    def oldest_date(self) -> str | None:
        with self._lock():
            self._refresh()
            return min((c.oldest for c in self._chunks.values() if c.oldest), default=None)

    def newest_date(self) -> str | None:
        with self._lock():
            self._refresh()
            return max((c.newest for c in self._chunks.values() if c.newest), default=None)

    def all_rows(self, *, raw: bool = True) -> list[Row]:
        """Every row, newest first by date (rows of one date in the order stored).
        ``raw=False`` leaves out the provider objects (what a list on screen
        needs): a fifth of the time and less than half the memory."""
        with self._lock():
            self._refresh()
            result: list[Row] = []
            for group in reversed(self._groups()):
                result.extend(self._sorted(group, raw, newest_first=True))
            return result

    def rows(self, newest_first: bool = True, *, raw: bool = True) -> Iterator[Row]:
        """Rows one month (or so) at a time; the lock is not held between them."""
        with self._lock():
            self._refresh()
            groups = [[c.name for c in g] for g in self._groups()]
        if newest_first:
            groups.reverse()
        for names in groups:
            yield from self._stream(names, raw, newest_first)

    def _stream(self, names: list[str], raw: bool, newest_first: bool) -> Iterator[Row]:
        """The rows of one group in ``_sorted``'s order, merged chunk by chunk: a chunk is
        read when the dates reach it and dropped when done, so a month of 30,000 rows
        costs the one or two chunks that share the current date, not the month."""
        with self._lock():
            self._refresh()
            chunks = [self._chunks[n] for n in names if n in self._chunks]

        def reach(chunk: _Chunk) -> str:  # the first date it gives
            return chunk.newest if newest_first else chunk.low

        def ahead(one: str, other: str) -> bool:  # does ``one`` come before ``other``?
            return one > other if newest_first else one < other

        waiting = sorted(range(len(chunks)), key=lambda i: reach(chunks[i]), reverse=newest_first)
        heads: dict[int, tuple[Row, Iterator[Row]]] = {}  # chunk -> (its next row, the rest)
        while waiting or heads:
            best, due = -1, ""
            for index in sorted(heads):  # ties go to the chunk stored first
                day = _date(heads[index][0])
                if best < 0 or ahead(day, due):
                    best, due = index, day
            if waiting and (best < 0 or not ahead(due, reach(chunks[waiting[0]]))):
                index = waiting.pop(0)  # its rows may come first, or tie: read it now
                with self._lock():
                    self._refresh()
                    rows = self._load(chunks[index], raw)
                rows.sort(key=_date, reverse=newest_first)
                stream = iter(rows)
                first = next(stream, None)
                if first is not None:
                    heads[index] = (first, stream)
                continue
            row, stream = heads.pop(best)
            # the usual case: nothing else is due before the next chunk; no comparisons
            limit = reach(chunks[waiting[0]]) if waiting else None
            others = [_date(heads[i][0]) for i in heads]
            while row is not None:
                day = _date(row)
                if (limit is not None and not ahead(day, limit)) or any(
                    ahead(other, day) or (other == day and i < best)
                    for i, other in zip(heads, others, strict=True)
                ):
                    heads[best] = (row, stream)
                    break
                yield row
                row = next(stream, None)  # type: ignore[arg-type]  # None ends the stream

    def rows_page(self, offset: int, limit: int, *, raw: bool = True) -> list[Row]:
        """``all_rows()[offset:offset + limit]``, reading only the chunks it needs."""
        with self._lock():
            self._refresh()
            result: list[Row] = []
            start = 0
            end = offset + limit
            for group in reversed(self._groups()):
                size = sum(c.rows for c in group)
                if start + size > offset and start < end:
                    rows = self._sorted(group, raw, newest_first=True)
                    result.extend(rows[max(0, offset - start) : end - start])
                start += size
                if start >= end:
                    break
            return result

    def oldest_rows(self, limit: int, *, raw: bool = True) -> list[Row]:
        """The last ``limit`` rows of ``all_rows()`` (the oldest), newest first."""
        with self._lock():
            total = self.count()
            start = max(0, total - limit)
            return self.rows_page(start, total - start, raw=raw)

    def rows_with(self, transaction_ids: Iterable[str], *, raw: bool = False) -> list[Row]:
        """The rows with these transaction ids, oldest first; only the chunks holding
        them are read (a sync's new rows: its last months, not the whole history)."""
        wanted = set(transaction_ids)
        if not wanted:
            return []
        with self._lock():
            self._refresh()
            found: list[Row] = []
            for name, ids in self._locate(wanted).items():
                found.extend(
                    row
                    for row in self._load(self._chunks[name], raw)
                    if row.get("transaction_id") in ids
                )
        found.sort(key=lambda row: str(row.get("date") or ""))
        return found

    def get(self, transaction_id: str) -> Row | None:
        """One row by transaction id, with its provider object."""
        with self._lock():
            self._refresh()
            name = next(iter(self._locate({transaction_id})), None)
            if name is None:
                return None
            for row in self._load(self._chunks[name], raw=True):
                if row.get("transaction_id") == transaction_id:
                    return row
            return None

    # -- writing -------------------------------------------------------------

    def append(self, rows: list[Row]) -> int:
        """Store new rows; rows whose transaction_id is already stored (or repeated
        in ``rows``) are skipped. Returns how many were stored. (Each row's
        ``raw`` is taken out for the dump and put back, as the last key.)"""
        with self._lock():
            self._refresh()
            fresh = self._fresh(rows)
            if not fresh:
                return 0
            prefixes = [(d or "")[:7] for d in map(dict.get, fresh, repeat("date"))]
            months = {p: _month(p) for p in set(prefixes)}
            by_month: dict[str, list[Row]] = {}
            if len(months) == 1:  # the usual page: one month
                by_month[months[prefixes[0]]] = fresh
            else:
                for prefix, row in zip(prefixes, fresh, strict=True):
                    by_month.setdefault(months[prefix], []).append(row)
            try:
                self._mark()
                for month, group in by_month.items():
                    chunk = self._open_chunk(month)
                    start = 0
                    while start < len(group):
                        room = CHUNK_ROWS - chunk.rows
                        if room <= 0:
                            chunk = self._new_chunk(month)
                            continue
                        self._append_to(chunk, group[start : start + room])
                        start += room
                self._write_index()
            except BaseException:
                self._invalidate()
                raise
            return len(fresh)

    def _fresh(self, rows: list[Row]) -> list[Row]:
        """The rows whose transaction_id is neither stored in the months they fall in
        (nor Pending in any) nor repeated: a set lookup each; rows without an id are
        all kept. (A sync checks the neighbouring months as well, see ``KnownIds``.)"""
        tids = list(map(dict.get, rows, repeat("transaction_id")))
        named = [t for t in tids if t]
        months = {month_of(d) for d in map(dict.get, rows, repeat("date"))}
        known = [self._shard(c) for c in self._chunks.values() if c.month in months]
        known.append({t: "" for c in self._chunks.values() for t in c.pending or ()})
        if len(set(named)) == len(named) and all(k.keys().isdisjoint(named) for k in known):
            return rows  # the usual page: every row is new
        seen: set[str] = set()
        fresh = []
        for row, tid in zip(rows, tids, strict=True):
            if tid:
                if tid in seen or any(tid in k for k in known):
                    continue
                seen.add(tid)
            fresh.append(row)
        return fresh

    def update(self, changes: dict[str, dict[str, Any]]) -> int:
        """Set fields of stored rows by transaction_id (status, party, erpnext_name,
        raw, ...); rewrites only the chunks holding them. Returns rows changed."""
        with self._lock():
            self._refresh()
            targets: dict[str, dict[str, dict[str, Any]]] = {}
            wanted = {tid for tid, fields in changes.items() if fields}
            for name, tids in self._locate(wanted).items():
                targets[name] = {tid: changes[tid] for tid in tids}
            changed = 0
            if not targets:
                return 0
            try:
                self._mark()
                for name, fields in targets.items():
                    changed += self._rewrite(self._chunks[name], fields)
                self._write_index()
            except BaseException:
                self._invalidate()
                raise
            return changed

    # -- chunks ----------------------------------------------------------------

    def _path(self, name: str, kind: str = "rows") -> Path:
        return self.folder / f"{name}{_SUFFIX[kind]}"

    def _locate(self, tids: set[str]) -> dict[str, set[str]]:
        """chunk -> the ``tids`` stored in it: Pending ones from the index, the others
        by reading chunk ids newest first until all are found."""
        found: dict[str, set[str]] = {}
        left = set(tids)
        for chunk in self._chunks.values():
            hit = left.intersection(chunk.pending or ())
            if hit:
                found.setdefault(chunk.name, set()).update(hit)
                left -= hit
        for chunk in sorted(self._chunks.values(), key=_Chunk.order, reverse=True):
            if not left:
                break
            hit = left & self._shard(chunk).keys()
            if hit:
                found.setdefault(chunk.name, set()).update(hit)
                left -= hit
        return found

    def _groups(self) -> list[list[_Chunk]]:
        """Chunks in groups whose date ranges do not overlap, oldest group first,
        each in stored order: sorting within a group sorts the whole book."""
        chunks = sorted(
            (c for c in self._chunks.values() if c.rows), key=lambda c: (c.low, c.newest)
        )
        groups: list[list[_Chunk]] = []
        high = ""
        for chunk in chunks:
            if groups and chunk.low <= high:
                groups[-1].append(chunk)
                high = max(high, chunk.newest)
            else:
                groups.append([chunk])
                high = chunk.newest
        for group in groups:
            group.sort(key=_Chunk.order)
        return groups

    def _sorted(self, group: list[_Chunk], raw: bool, *, newest_first: bool) -> list[Row]:
        rows: list[Row] = []
        for chunk in group:
            rows.extend(self._load(chunk, raw))
        rows.sort(key=_date, reverse=newest_first)
        return rows

    def _load(self, chunk: _Chunk, raw: bool) -> list[Row]:
        table = self._table(self._path(chunk.name), ROWS_TABLE)
        if raw:
            raws = self._raw_table(chunk.name)
            for doc, row in table.items():
                row["raw"] = raws.get(doc, {})
        rows = list(table.values())
        name = self.account_name
        for row in rows:
            row["bank_account"] = name
        return rows

    def _table(self, path: Path, table: str) -> dict[str, Row]:
        data = read_json(path)
        if data is None:
            raise self._missing(path)
        return self._content(path, data, table)

    def _missing(self, path: Path) -> StoreError:
        return StoreError(
            f"The transaction file {path} is missing.",
            f"Restore it from a backup; or delete {self._index_file} to keep only the "
            "transactions still on disk.",
        )

    def _raw_table(self, name: str) -> dict[str, Row]:
        """The provider objects of a chunk, from its gzip file (or its plain one, kept
        by a store written before)."""
        path = self._path(name, "raw")
        packed = read_bytes(path)
        if packed is None:
            plain = self._path(name, "plain")
            if plain.exists():
                return self._table(plain, RAW_TABLE)
            raise self._missing(path)
        try:
            data = gzip.decompress(packed)
        except (OSError, EOFError, zlib.error) as exc:
            raise corrupt(path, f"not a readable gzip file: {exc}") from exc
        return self._content(path, parse(path, data), RAW_TABLE)

    def _write_raw(
        self, name: str, pieces: list[bytes | memoryview], *, sync_dir: bool = True
    ) -> list[int]:
        """Write the chunk's gzip file; its plain predecessor, if any, goes."""
        printed = list(atomic_write(self._path(name, "raw"), pieces, sync_dir=sync_dir))
        self._unlink(self._path(name, "plain"))
        return printed

    def _packed_raw(self, table: dict[str, Any]) -> list[bytes | memoryview]:
        body = orjson.dumps({RAW_TABLE: table})
        if not table:  # no close member: an append then parses and rewrites it
            return [_gz(body)]
        return [_gz(body[:-2]), _GZ_CLOSE]

    def _grown_raw(self, chunk: _Chunk, addition: bytes, new: bool) -> list[bytes | memoryview]:
        """The raw file with ``addition`` (a serialised {doc: object}) added: one more
        gzip member before the closing one, the old members kept as they are."""
        if new:
            return [_gz(b'{"' + RAW_TABLE.encode() + b'":' + addition[:-1]), _GZ_CLOSE]
        old = read_bytes(self._path(chunk.name, "raw"))
        if old is not None and old.endswith(_GZ_CLOSE):
            return [memoryview(old)[: -len(_GZ_CLOSE)], _gz(b"," + addition[1:-1]), _GZ_CLOSE]
        content = self._raw_table(chunk.name)  # plain, empty or foreign: parse it
        content.update(orjson.loads(addition))
        return self._packed_raw(content)

    def _content(self, path: Path, data: Any, table: str) -> dict[str, Row]:
        content = data.get(table) if isinstance(data, dict) else None
        if not isinstance(content, dict) or not all(isinstance(r, dict) for r in content.values()):
            raise corrupt(path, f"expected a TinyDB table '{table}'")
        return content

    def _open_chunk(self, month: str) -> _Chunk:
        """The month's newest chunk while it is small, else a new one: an append
        rewrites at most GROW_LIMIT stored rows."""
        mine = [c for c in self._chunks.values() if c.month == month]
        newest = max(mine, key=_Chunk.order, default=None)
        if newest is not None and newest.rows < GROW_LIMIT:
            return newest
        return self._new_chunk(month)

    def _new_chunk(self, month: str) -> _Chunk:
        seq = max((c.seq for c in self._chunks.values() if c.month == month), default=0) + 1
        return _Chunk(f"{month}.{seq:03d}")

    def _append_to(self, chunk: _Chunk, rows: list[Row]) -> None:
        docs = [str(chunk.next_id + i) for i in range(len(rows))]
        # the provider objects go to their own file: taken out of the caller's
        # rows for the dump (cheaper than copying 1,000 dicts) and put back
        objects = list(map(dict.pop, rows, repeat("raw"), repeat(_ABSENT)))
        try:
            body = orjson.dumps(dict(zip(docs, rows, strict=True)))
        finally:
            for row, obj in zip(rows, objects, strict=True):
                if obj is not _ABSENT:
                    row["raw"] = obj
        raws = orjson.dumps(
            dict(
                zip(
                    docs,
                    ({} if obj is _ABSENT or obj is None else obj for obj in objects),
                    strict=True,
                )
            )
        )
        new = chunk.name not in self._chunks
        files = dict(chunk.files)
        # raw first: rows never point at provider objects that are not on disk.
        # The folder is fsynced once by the caller before the index is written.
        files["raw"] = self._write_raw(
            chunk.name, self._grown_raw(chunk, raws, new), sync_dir=False
        )
        files["rows"] = list(
            atomic_write(
                self._path(chunk.name),
                self._grown(chunk, "rows", ROWS_TABLE, body, new),
                sync_dir=False,
            )
        )
        shard = dict(self._shard(chunk)) if not new else {}
        tids = map(dict.get, rows, repeat("transaction_id"))
        statuses = map(dict.get, rows, repeat("status"))
        added = {t: s or "" for t, s in zip(tids, statuses, strict=True) if t}
        shard.update(added)
        files["ids"] = self._write_shard(chunk.name, shard)
        files.pop("find", None)
        old_find = None if new else self._find_if_current(chunk)
        if new or old_find is not None:  # else it is built when a filter needs it
            files["find"] = list(
                atomic_write(
                    self._path(chunk.name, "find"),
                    [old_find or b"", search_lines(dict(zip(docs, rows, strict=True)))],
                    durable=False,
                )
            )
        else:
            self._unlink(self._path(chunk.name, "find"))
        chunk.pending = [*(chunk.pending or ()), *(t for t, s in added.items() if s == "Pending")]
        chunk.named = (chunk.named or 0) + len(added)
        chunk.settled = (chunk.settled or 0) + sum(s == "Settled" for s in added.values())
        chunk.files = files
        chunk.rows += len(rows)
        chunk.next_id += len(rows)
        chunk.add_dates([d or "" for d in map(dict.get, rows, repeat("date"))])
        self._chunks[chunk.name] = chunk

    def _grown(
        self, chunk: _Chunk, kind: str, table: str, addition: bytes, new: bool
    ) -> list[bytes | memoryview]:
        """The file's bytes with ``addition`` (a serialised {doc: row} object)
        added to its table: spliced in without parsing the existing rows."""
        head = b'{"' + table.encode() + b'":'
        if new:
            return [head, addition, b"}"]
        path = self._path(chunk.name, kind)
        old = read_bytes(path)
        if old is not None and old.startswith(head + b"{") and old.endswith(b"}}"):
            inner = memoryview(old)[:-2]
            separator = b"" if old[-3:-2] == b"{" else b","
            return [inner, separator, memoryview(addition)[1:-1], b"}}"]
        content = self._table(path, table)  # another writer's formatting: parse it
        content.update(orjson.loads(addition))
        return [head, orjson.dumps(content), b"}"]

    def _write_shard(self, name: str, shard: dict[str, str]) -> list[int]:
        printed = list(atomic_write(self._path(name, "ids"), orjson.dumps(shard), durable=False))
        self._set_shard(name, shard, printed)
        return printed

    def _set_shard(self, name: str, shard: dict[str, str], printed: list[int]) -> None:
        self._shards[name] = shard
        self._shards.move_to_end(name)
        self._shard_prints[name] = printed
        while len(self._shards) > SHARDS_CACHED:
            old, _ = self._shards.popitem(last=False)
            del self._shard_prints[old]

    def _shard(self, chunk: _Chunk) -> dict[str, str]:
        """The chunk's {transaction_id: status}, cached while it matches its file."""
        shard = self._shards.get(chunk.name)
        if shard is not None and self._shard_prints.get(chunk.name) == chunk.files.get("ids"):
            self._shards.move_to_end(chunk.name)
            return shard
        return self._load_shard(chunk)

    # -- the filter's search lines ------------------------------------------------

    def search(self, query: Query, cancelled: Callable[[], bool] | None = None) -> list[Hit]:
        """The rows in which every word of ``query`` occurs, in ``all_rows()`` order,
        read from the chunks' search lines (built where missing). A word found in
        the account's name is true of every row. [] when ``cancelled()`` turns true."""
        name = normalise(self.account_name).encode()
        query = [forms for forms in query if not any(f in name for f in forms)]
        with self._lock():
            self._refresh()
            groups = [[c.name for c in g] for g in self._groups()]
        hits: list[Hit] = []
        for names in reversed(groups):
            found: list[Hit] = []
            for chunk_name in names:
                if cancelled is not None and cancelled():
                    return []
                with self._lock():
                    self._refresh()
                    chunk = self._chunks.get(chunk_name)
                    blob = self._find(chunk) if chunk is not None else b""
                found.extend(
                    (date, chunk_name, doc) for doc, date in matching_lines(blob, query, cancelled)
                )
            found.sort(key=itemgetter(0), reverse=True)  # stable: the order of all_rows()
            hits.extend(found)
        return hits

    def fetch(self, hits: list[Hit]) -> list[Row]:
        """The rows (without provider objects) of ``hits``; {} for one that has gone
        (another process rewrote its chunk since the search)."""
        with self._lock():
            self._refresh()
            tables: dict[str, dict[str, Row]] = {}
            result: list[Row] = []
            for _, name, doc in hits:
                table = tables.get(name)
                if table is None:
                    table = tables[name] = (
                        self._table(self._path(name), ROWS_TABLE) if name in self._chunks else {}
                    )
                row = table.get(doc_id(doc))
                if row is not None:
                    row["bank_account"] = self.account_name
                result.append(row or {})
            return result

    def _find(self, chunk: _Chunk) -> bytes:
        blob = self._find_if_current(chunk)
        if blob is not None:
            return blob
        blob = search_lines(self._table(self._path(chunk.name), ROWS_TABLE))
        chunk.files["find"] = list(
            atomic_write(self._path(chunk.name, "find"), blob, durable=False)
        )
        self._write_index()
        return blob

    def _find_if_current(self, chunk: _Chunk) -> bytes | None:
        """The chunk's search lines when they were written for its current rows."""
        printed = chunk.files.get("find")
        path = self._path(chunk.name, "find")
        if printed is None or list(fingerprint(path) or ()) != printed:
            return None
        return read_bytes(path)

    def _unlink(self, path: Path) -> None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StoreError(
                f"Could not write in {self.folder} ({exc.strerror}).",
                "Check free disk space and permissions.",
            ) from exc

    def _rewrite(self, chunk: _Chunk, wanted: dict[str, dict[str, Any]]) -> int:
        table = self._table(self._path(chunk.name), ROWS_TABLE)
        raw_changes: dict[str, Any] = {}
        changed = 0
        for doc, row in table.items():
            fields = wanted.get(row.get("transaction_id") or "")
            if fields is None:
                continue
            for key, value in fields.items():
                if key == "raw":
                    raw_changes[doc] = value
                elif key != "transaction_id":
                    row[key] = value
            changed += 1
        files = dict(chunk.files)
        if raw_changes:
            raws = self._raw_table(chunk.name)
            raws.update(raw_changes)
            files["raw"] = self._write_raw(chunk.name, self._packed_raw(raws), sync_dir=False)
        files["rows"] = list(
            atomic_write(self._path(chunk.name), orjson.dumps({ROWS_TABLE: table}), sync_dir=False)
        )
        shard = _shard_of(table)
        files["ids"] = self._write_shard(chunk.name, shard)
        files["find"] = list(
            atomic_write(self._path(chunk.name, "find"), search_lines(table), durable=False)
        )
        _count(chunk, shard)
        chunk.files = files
        chunk.oldest = chunk.newest = ""
        chunk.undated = 0
        chunk.add_dates([_date(r) for r in table.values()])
        return changed

    # -- consistency with the files on disk --------------------------------------------

    def _refresh(self) -> None:
        """Bring the in-memory index up to the files (call under the lock)."""
        if not self.folder.is_dir():
            self._invalidate()
            self._loaded = True
            return
        if not self._cleaned:
            remove_temp_files(self.folder)
            self._cleaned = True
        index_print = fingerprint(self._index_file)
        if not self._loaded or index_print != self._index_print:
            chunks = self._read_index()
            self._chunks = chunks or {}
            self._index_print = index_print
            self._loaded = True
            if chunks is None:
                self._verified = False
        # Files are compared with the index on first use (a crash or power loss
        # before this process) and when a writer left its marker (it died
        # between its chunk writes and its index); otherwise every writer
        # committed its index, and that was read above.
        if not self._verified or self._marker.exists():
            if self._verify():
                self._write_index()
            self._unmark()
            self._verified = True
        for name in list(self._shards):
            if name not in self._chunks:
                del self._shards[name], self._shard_prints[name]
        unknown = [c for c in self._chunks.values() if c.pending is None or c.named is None]
        for chunk in unknown:  # an index of format 1: learn the Pending ids and counts once
            _count(chunk, self._shard(chunk))
        if unknown:
            self._write_index()

    def _read_index(self) -> dict[str, _Chunk] | None:
        """The chunks listed in the index; None when it is missing or unreadable
        (it is derived data: rebuilt from the chunks)."""
        data = read_bytes(self._index_file)
        if data is None:
            return None
        try:
            content = orjson.loads(data)
            if content.get("format") not in (1, INDEX_FORMAT):
                return None
            return {
                name: _Chunk(name, **entry)
                for name, entry in content["chunks"].items()
                if _FILE.match(f"{name}.json")
            }
        except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
            return None

    def _verify(self) -> bool:
        """Rebuild the entries of chunks whose files differ from the index;
        True when the index changed."""
        on_disk: dict[str, dict[str, list[int]]] = {}
        try:
            entries = list(os.scandir(self.folder))
        except OSError as exc:
            raise StoreError(f"Could not read the folder {self.folder} ({exc.strerror}).") from exc
        for entry in entries:
            match = _FILE.match(entry.name)
            if match:
                stat = entry.stat()
                kind = _KIND[match.group(2)]
                on_disk.setdefault(match.group(1), {})[kind] = [
                    stat.st_ino,
                    stat.st_size,
                    stat.st_mtime_ns,
                ]
        for files in on_disk.values():
            plain = files.pop("plain", None)
            if plain is not None:  # both: a writer died before removing the plain one
                files.setdefault("raw", plain)
        changed = False
        for name in self._chunks:
            if "rows" not in on_disk.get(name, {}):
                raise StoreError(
                    f"The transaction file {self._path(name)} is missing.",
                    f"Restore it from a backup; or delete {self._index_file} to keep only "
                    "the transactions still on disk.",
                )
        for name, files in on_disk.items():
            if "rows" not in files:
                continue  # leftovers of a new chunk whose rows were never written
            chunk = self._chunks.get(name)
            # search lines are checked when read (``_find``): a missing or stale one
            # alone is rebuilt then, from the rows only
            if chunk is None or _primary(chunk.files) != _primary(files):
                self._rebuild(name, files)
                changed = True
            elif chunk.files.get("find") != files.get("find"):
                chunk.files.pop("find", None)
                changed = True
        return changed

    def _rebuild(self, name: str, files: dict[str, list[int]]) -> None:
        raw_path = self._path(name, "raw")
        if name not in self._chunks and "raw" not in files:
            # a writer writes raw before rows: a rows file alone, unknown to the index,
            # is a stray (a copy, a file from elsewhere); name it, not another file
            raise StoreError(
                f"The file {self._path(name)} in the transactions of '{self.account_name}' "
                f"is not one kosma-tui wrote (it is not in the index, and {raw_path.name} "
                "is not beside it).",
                f"Move {self._path(name).name} out of {self.folder}; if it is a backup of "
                f"transactions, restore {raw_path.name} with it.",
            )
        table = self._table(self._path(name), ROWS_TABLE)
        raws = self._raw_table(name)  # written before the rows: never missing
        if raws.keys() != table.keys() or self._path(name, "plain").exists():
            # provider objects written just before a writer was killed (or lost)
            raws = {doc: raws.get(doc, {}) for doc in table}
            files["raw"] = self._write_raw(name, self._packed_raw(raws))
        chunk = _Chunk(name, rows=len(table))
        try:
            chunk.next_id = max((int(doc) for doc in table), default=0) + 1
        except ValueError as exc:
            raise corrupt(self._path(name), "a document id is not a number") from exc
        chunk.add_dates([_date(r) for r in table.values()])
        shard = _shard_of(table)
        files["ids"] = self._write_shard(name, shard)
        files["find"] = list(
            atomic_write(self._path(name, "find"), search_lines(table), durable=False)
        )
        _count(chunk, shard)
        chunk.files = files
        self._chunks[name] = chunk

    def _load_shard(self, chunk: _Chunk) -> dict[str, str]:
        path = self._path(chunk.name, "ids")
        data = read_bytes(path)
        shard: Any = None
        if data is not None:
            try:
                with no_gc():
                    shard = orjson.loads(data)
            except orjson.JSONDecodeError:
                shard = None
        if isinstance(shard, dict) and chunk.files.get("ids") == list(fingerprint(path) or ()):
            self._set_shard(chunk.name, shard, chunk.files["ids"])
            return shard
        rows = self._table(self._path(chunk.name), ROWS_TABLE)  # derived: rebuild it
        shard = _shard_of(rows)
        chunk.files["ids"] = self._write_shard(chunk.name, shard)
        self._write_index()
        return shard

    def _write_index(self) -> None:
        """Commit: make the chunk files durable, then record them (the index is
        derived, so it needs no fsync of its own: stale after a power loss, it
        is rebuilt)."""
        make_private_dir(self.folder)
        fsync_dir(self.folder)
        data = {
            "format": INDEX_FORMAT,
            "chunks": {n: c.as_json() for n, c in sorted(self._chunks.items())},
        }
        self._index_print = atomic_write(self._index_file, orjson.dumps(data), durable=False)
        self._unmark()

    def _mark(self) -> None:
        """Say "chunks are being written" until the index is: a process that
        finds the marker under the lock knows the writer died in between."""
        make_private_dir(self.folder.parent)
        make_private_dir(self.folder)
        try:
            os.close(os.open(self._marker, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600))
        except OSError as exc:
            raise StoreError(
                f"Could not write in {self.folder} ({exc.strerror}).",
                "Check free disk space and permissions.",
            ) from exc

    def _unmark(self) -> None:
        try:
            os.unlink(self._marker)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StoreError(
                f"Could not write in {self.folder} ({exc.strerror}).",
                "Check free disk space and permissions.",
            ) from exc

    def _invalidate(self) -> None:
        """Forget everything cached; the next operation reads the files again."""
        self._loaded = False
        self._verified = False
        self._index_print = None
        self._chunks = {}
        self._shards = OrderedDict()
        self._shard_prints = {}


def _primary(files: dict[str, list[int]]) -> dict[str, list[int]]:
    return {kind: printed for kind, printed in files.items() if kind != "find"}


def _count(chunk: _Chunk, shard: dict[str, str]) -> None:
    """The chunk's Pending ids and counts, from its {transaction_id: status}."""
    chunk.pending = [t for t, s in shard.items() if s == "Pending"]
    chunk.named = len(shard)
    chunk.settled = sum(s == "Settled" for s in shard.values())


def _shard_of(table: dict[str, Row]) -> dict[str, str]:
    return {
        r["transaction_id"]: r.get("status") or ""
        for r in table.values()
        if r.get("transaction_id")
    }
