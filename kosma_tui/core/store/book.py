"""Bank Transactions of one account, in chunks, so that a sync appending a page
to 100,000 stored rows writes a few thousand rows, never the history.

Folder ``store/transactions/<account.key>/``:

- ``YYYY-MM.NNN.json``: rows dated in one month (TinyDB table ``transactions``,
  doc id -> row without ``raw``), at most ``CHUNK_ROWS``; undated rows use
  month ``0000-00``. Only the newest chunk of a month grows, and only while it
  holds fewer than ``GROW_LIMIT`` rows, so an append rewrites at most that many.
- ``YYYY-MM.NNN.raw.json``: the provider objects of those rows (table ``raw``,
  same doc ids). Kept apart so that listing 100,000 rows does not parse them.
- ``YYYY-MM.NNN.ids.json``: ``{transaction_id: status}`` of the chunk (derived).
- ``index.json``: every chunk with its row count, date range and the
  fingerprints (inode, size, mtime) of its files (derived).

A write creates ``writing.marker``, then writes raw -> rows (fsynced) -> ids ->
index, each file atomically, and removes the marker; the index is the commit
record. The files are compared with the index (inode, size, mtime of each) the
first time a process uses the book and whenever it finds the marker under the
lock (a writer died between its chunk files and its index): a chunk that does
not match is read again and its ids and index entry are rebuilt, so dedup
never misses a stored row. A rows or raw file that cannot be parsed is a
``StoreError`` and is left as it is; a broken ids file or index is rebuilt.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any

import orjson

from kosma_tui.core.errors import StoreError
from kosma_tui.core.paths import make_private_dir
from kosma_tui.core.store.files import (
    Fingerprint,
    atomic_write,
    corrupt,
    fingerprint,
    fsync_dir,
    no_gc,
    read_bytes,
    read_json,
    remove_temp_files,
)

CHUNK_ROWS = 5_000  # rows per chunk file at most
GROW_LIMIT = 1_000  # a month's newest chunk takes more rows only while smaller than this
INDEX_FORMAT = 1
UNDATED = "0000-00"
ROWS_TABLE = "transactions"
RAW_TABLE = "raw"
_FILE = re.compile(r"^(\d{4}-\d{2}\.\d{3,})(\.raw|\.ids)?\.json$")

Row = dict[str, Any]
_ABSENT: Any = object()


def _month(prefix: str) -> str:
    """The chunk month for the first 7 characters of a date."""
    if len(prefix) == 7 and prefix[4] == "-" and prefix[:4].isdigit() and prefix[5:].isdigit():
        return prefix
    return UNDATED


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
    files: dict[str, list[int]] = field(default_factory=dict)  # rows/raw/ids -> fingerprint

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
        return {"rows": self.rows, "next_id": self.next_id, "oldest": self.oldest,
                "newest": self.newest, "undated": self.undated, "files": self.files}


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
        self._shards: dict[str, dict[str, str]] = {}  # chunk -> {transaction_id: status}
        self._shard_prints: dict[str, list[int]] = {}
        self._status: dict[str, str] = {}  # all shards merged: the dedup set

    # -- reading -------------------------------------------------------------

    def ids(self) -> dict[str, str]:
        """transaction_id -> status of every stored row that has an id."""
        with self._lock():
            self._refresh()
            return dict(self._status)

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
            with self._lock():
                self._refresh()
                group = [self._chunks[n] for n in names if n in self._chunks]
                rows = self._sorted(group, raw, newest_first=newest_first)
            yield from rows

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
                    result.extend(rows[max(0, offset - start):end - start])
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

    def get(self, transaction_id: str) -> Row | None:
        """One row by transaction id, with its provider object."""
        with self._lock():
            self._refresh()
            name = next((n for n, s in self._shards.items() if transaction_id in s), None)
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
                        self._append_to(chunk, group[start:start + room])
                        start += room
                self._write_index()
            except BaseException:
                self._invalidate()
                raise
            return len(fresh)

    def _fresh(self, rows: list[Row]) -> list[Row]:
        """The rows whose transaction_id is neither stored nor repeated (a set
        lookup each); rows without an id are all kept."""
        tids = list(map(dict.get, rows, repeat("transaction_id")))
        named = [t for t in tids if t]
        if len(set(named)) == len(named) and self._status.keys().isdisjoint(named):
            return rows  # the usual page: every row is new
        known = self._status
        seen: set[str] = set()
        fresh = []
        for row, tid in zip(rows, tids, strict=True):
            if tid:
                if tid in known or tid in seen:
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
            for name, shard in self._shards.items():
                found = {tid: changes[tid] for tid in shard.keys() & changes.keys()
                         if changes[tid]}
                if found:
                    targets[name] = found
            changed = 0
            if not targets:
                return 0
            try:
                self._mark()
                for name, wanted in targets.items():
                    changed += self._rewrite(self._chunks[name], wanted)
                self._write_index()
            except BaseException:
                self._invalidate()
                raise
            return changed

    # -- chunks ----------------------------------------------------------------

    def _path(self, name: str, kind: str = "rows") -> Path:
        suffix = "" if kind == "rows" else f".{kind}"
        return self.folder / f"{name}{suffix}.json"

    def _groups(self) -> list[list[_Chunk]]:
        """Chunks in groups whose date ranges do not overlap, oldest group first,
        each in stored order: sorting within a group sorts the whole book."""
        chunks = sorted((c for c in self._chunks.values() if c.rows),
                        key=lambda c: (c.low, c.newest))
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
            raws = self._table(self._path(chunk.name, "raw"), RAW_TABLE)
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
            raise StoreError(
                f"The transaction file {path} is missing.",
                f"Restore it from a backup; or delete {self._index_file} to keep only the "
                "transactions still on disk.",
            )
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
        raws = orjson.dumps(dict(zip(docs, (
            {} if obj is _ABSENT or obj is None else obj for obj in objects), strict=True)))
        new = chunk.name not in self._chunks
        files = dict(chunk.files)
        # raw first: rows never point at provider objects that are not on disk.
        # The folder is fsynced once by the caller before the index is written.
        files["raw"] = list(atomic_write(self._path(chunk.name, "raw"),
                                         self._grown(chunk, "raw", RAW_TABLE, raws, new),
                                         sync_dir=False))
        files["rows"] = list(atomic_write(self._path(chunk.name),
                                          self._grown(chunk, "rows", ROWS_TABLE, body, new),
                                          sync_dir=False))
        shard = dict(self._shards.get(chunk.name) or {})
        tids = map(dict.get, rows, repeat("transaction_id"))
        statuses = map(dict.get, rows, repeat("status"))
        shard.update({t: s or "" for t, s in zip(tids, statuses, strict=True) if t})
        files["ids"] = self._write_shard(chunk.name, shard)
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
        old = self._shards.get(name)
        self._shards[name] = shard
        self._shard_prints[name] = printed
        if old and not old.keys() <= shard.keys():
            self._status = {}  # an id left this chunk (never in practice): merge again
            for each in self._shards.values():
                self._status.update(each)
        else:
            self._status.update(shard)

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
            raw_path = self._path(chunk.name, "raw")
            raws = self._table(raw_path, RAW_TABLE)
            raws.update(raw_changes)
            files["raw"] = list(atomic_write(raw_path, orjson.dumps({RAW_TABLE: raws}),
                                             sync_dir=False))
        files["rows"] = list(atomic_write(self._path(chunk.name),
                                          orjson.dumps({ROWS_TABLE: table}), sync_dir=False))
        files["ids"] = self._write_shard(chunk.name, _shard_of(table))
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
                self._set_shard(name, {}, [])
                del self._shards[name], self._shard_prints[name]
        for name, chunk in self._chunks.items():
            if self._shard_prints.get(name) != chunk.files.get("ids"):
                self._load_shard(chunk)

    def _read_index(self) -> dict[str, _Chunk] | None:
        """The chunks listed in the index; None when it is missing or unreadable
        (it is derived data: rebuilt from the chunks)."""
        data = read_bytes(self._index_file)
        if data is None:
            return None
        try:
            content = orjson.loads(data)
            if content.get("format") != INDEX_FORMAT:
                return None
            return {name: _Chunk(name, **entry) for name, entry in content["chunks"].items()
                    if _FILE.match(f"{name}.json")}
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
                kind = (match.group(2) or ".rows")[1:]
                on_disk.setdefault(match.group(1), {})[kind] = [
                    stat.st_ino, stat.st_size, stat.st_mtime_ns]
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
            if chunk is None or chunk.files != files:
                self._rebuild(name, files)
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
        raws = self._table(raw_path, RAW_TABLE)  # written before the rows: never missing
        if raws.keys() != table.keys():
            # provider objects written just before a writer was killed (or lost)
            raws = {doc: raws.get(doc, {}) for doc in table}
            files["raw"] = list(atomic_write(raw_path, orjson.dumps({RAW_TABLE: raws})))
        chunk = _Chunk(name, rows=len(table))
        try:
            chunk.next_id = max((int(doc) for doc in table), default=0) + 1
        except ValueError as exc:
            raise corrupt(self._path(name), "a document id is not a number") from exc
        chunk.add_dates([_date(r) for r in table.values()])
        files["ids"] = self._write_shard(name, _shard_of(table))
        chunk.files = files
        self._chunks[name] = chunk

    def _load_shard(self, chunk: _Chunk) -> None:
        path = self._path(chunk.name, "ids")
        data = read_bytes(path)
        shard: Any = None
        if data is not None:
            try:
                with no_gc():
                    shard = orjson.loads(data)
            except orjson.JSONDecodeError:
                shard = None
        if isinstance(shard, dict):
            self._set_shard(chunk.name, shard, chunk.files.get("ids", []))
            return
        rows = self._table(self._path(chunk.name), ROWS_TABLE)  # derived: rebuild it
        chunk.files["ids"] = self._write_shard(chunk.name, _shard_of(rows))
        self._write_index()

    def _write_index(self) -> None:
        """Commit: make the chunk files durable, then record them (the index is
        derived, so it needs no fsync of its own: stale after a power loss, it
        is rebuilt)."""
        make_private_dir(self.folder)
        fsync_dir(self.folder)
        data = {"format": INDEX_FORMAT,
                "chunks": {n: c.as_json() for n, c in sorted(self._chunks.items())}}
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
            raise StoreError(f"Could not write in {self.folder} ({exc.strerror}).",
                             "Check free disk space and permissions.") from exc

    def _unmark(self) -> None:
        try:
            os.unlink(self._marker)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StoreError(f"Could not write in {self.folder} ({exc.strerror}).",
                             "Check free disk space and permissions.") from exc

    def _invalidate(self) -> None:
        """Forget everything cached; the next operation reads the files again."""
        self._loaded = False
        self._verified = False
        self._index_print = None
        self._chunks = {}
        self._shards = {}
        self._shard_prints = {}
        self._status = {}


def _shard_of(table: dict[str, Row]) -> dict[str, str]:
    return {r["transaction_id"]: r.get("status") or "" for r in table.values()
            if r.get("transaction_id")}

