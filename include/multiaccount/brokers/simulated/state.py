"""Persistence of simulated accounts, shared by every process on the machine.

Each account login has an append-only journal `MULTIACCOUNT_HOME/sim/account_<login>.jsonl`. Its
first line is the whole book, `{"h": head, "d": deals}` (head = scalars, open positions, pending
orders); every later line is one committed transaction's change, `{"s": scalars, "p": [positions
added or changed], "px": [tickets gone], "o": [...], "ox": [...], "d": [deals booked]}`, so neither
the history nor the untouched positions are re-serialised per order. Replaying the lines in order
gives the book, with positions and orders in the same order as in the writer's memory.

Why this shape: the trade server of a real broker keeps each account's book in memory and logs
changes; rewriting a whole JSON book per order (tempfile, fsync-free write, rename) cost about 1 ms
of CPU per order and serialised the terminal fan-out. Here every process keeps the books it uses in
memory and, inside `transaction()`:
- takes an exclusive `flock` on a side lock file (across processes; a thread lock inside one);
- `stat`s the journal: same inode and size as this process last saw means nobody else wrote, so
  nothing is read; a longer file means another process appended, so only the new lines are read;
  another inode (compaction, `reset`) means a full reload;
- when the book is dirty, appends one line with one `write` on an `O_APPEND` descriptor.
A journal longer than `COMPACT_RECORDS` lines is rewritten as one line (temp file + atomic rename).
A line cut short by a killed process (no trailing newline) is ignored and truncated by the next
writer. Books in the former one-file format (`account_<login>.json`) are migrated on first use.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from multiaccount import paths

SCENARIO_FILE = "scenario.json"
JOURNAL_SUFFIX = ".jsonl"
LEGACY_SUFFIX = ".json"
COMPACT_RECORDS = 400  # journal lines before the book is rewritten as one line

_made: set[Path] = set()


def sim_dir() -> Path:
    """`MULTIACCOUNT_HOME/sim`, created once per process (this is on every call's path)."""
    path = Path(os.environ.get("MULTIACCOUNT_HOME") or paths.PROJECT_ROOT / "var") / "sim"
    if path not in _made or not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        _made.add(path)
    return path


def scenario_path() -> Path:
    """Where the shared scenario lives (no directory creation: this is on every call's path)."""
    return Path(os.environ.get("MULTIACCOUNT_HOME") or paths.PROJECT_ROOT / "var") / "sim" / SCENARIO_FILE


_INTERNAL = frozenset({"dirty", "persisted_deals", "comment_index", "indexed_deals", "saved_positions",
                       "saved_orders"})
_LISTS = frozenset({"positions", "orders", "deals"})


@dataclass
class Book:
    """What the trade server knows about one account. Money in account currency (float, like MT5).

    Persistence bookkeeping (not part of the book): `deals` only grows (append through `add_deal`)
    and `persisted_deals` counts those already in the journal; `saved_positions` / `saved_orders`
    are copies of the records as last journaled, so a commit writes only what differs (usually the
    scalars, one position and its deals) instead of re-encoding every open position.
    `comment_index` maps a deal comment (our client order id) to deal positions, so an idempotency
    lookup never scans the history."""

    login: int
    account_id: str
    currency: str
    leverage: int
    balance: float
    server: str = "Simulated"
    name: str = ""
    credit: float = 0.0
    margin_so_call: float = 50.0
    margin_so_so: float = 30.0
    positions: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    deals: list[dict[str, Any]] = field(default_factory=list)
    next_ticket: int = 1
    last_eval: float | None = None  # epoch seconds of the last time-driven evaluation
    dirty: bool = False
    persisted_deals: int = 0
    comment_index: dict[str, list[int]] = field(default_factory=dict, repr=False, compare=False)
    indexed_deals: int = 0
    saved_positions: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)
    saved_orders: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)

    def ticket(self) -> int:
        t = 10_000_000 + self.next_ticket
        self.next_ticket += 1
        return t

    def add_deal(self, deal: dict[str, Any]) -> None:
        self.deals.append(deal)
        self.dirty = True

    def deals_with_comment(self, comment: str) -> list[dict[str, Any]]:
        """Deals whose comment is `comment`, oldest first (index brought up to date lazily)."""
        index = self.comment_index
        for i in range(self.indexed_deals, len(self.deals)):
            index.setdefault(self.deals[i]["comment"], []).append(i)
        self.indexed_deals = len(self.deals)
        return [self.deals[i] for i in index.get(comment, ())]

    # ------------------------------------------------------------ journal records
    def scalars(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _SCALARS}

    def head(self) -> dict[str, Any]:
        return {**self.scalars(), "positions": self.positions, "orders": self.orders}

    def full_record(self) -> dict[str, Any]:
        return {"h": self.head(), "d": self.deals}

    def delta_record(self) -> dict[str, Any]:
        """What changed since the last journaled state: scalars, upserted / removed records, new deals."""
        rec: dict[str, Any] = {"s": self.scalars()}
        for key, items, saved in (("p", self.positions, self.saved_positions), ("o", self.orders, self.saved_orders)):
            changed = [x for x in items if saved.get(x["ticket"]) != x]
            if changed:
                rec[key] = changed
            added = sum(1 for x in changed if x["ticket"] not in saved)
            if len(items) - added != len(saved):  # some saved record is no longer there
                live = {x["ticket"] for x in items}
                rec[key + "x"] = [t for t in saved if t not in live]
        rec["d"] = self.deals[self.persisted_deals:]
        return rec

    def mark_saved(self) -> None:
        """The journal now holds this book (after a successful write or a load)."""
        self.saved_positions = {p["ticket"]: dict(p) for p in self.positions}
        self.saved_orders = {o["ticket"]: dict(o) for o in self.orders}
        self.persisted_deals = len(self.deals)

    def mark_delta_saved(self, rec: dict[str, Any]) -> None:
        for key, saved in (("p", self.saved_positions), ("o", self.saved_orders)):
            for t in rec.get(key + "x", ()):
                saved.pop(t, None)
            for x in rec.get(key, ()):
                saved[x["ticket"]] = dict(x)
        self.persisted_deals = len(self.deals)

    def apply(self, rec: dict[str, Any]) -> None:
        """Bring this book to a delta line written by another process (same order of records)."""
        for key, value in rec["s"].items():
            setattr(self, key, value)
        for key, attr in (("p", "positions"), ("o", "orders")):
            items: list[dict[str, Any]] = getattr(self, attr)
            gone = set(rec.get(key + "x", ()))
            if gone:
                items = [x for x in items if x["ticket"] not in gone]
                setattr(self, attr, items)
            if key in rec:
                where = {x["ticket"]: i for i, x in enumerate(items)}
                for x in rec[key]:
                    i = where.get(x["ticket"])
                    if i is None:
                        items.append(x)
                    else:
                        items[i] = x
        self.deals.extend(rec["d"])
        self.mark_delta_saved({k: v for k, v in rec.items() if k in ("p", "px", "o", "ox")})

    def to_json(self) -> str:
        """The whole book as one JSON object (the former file format; kept for tools and tests)."""
        return json.dumps({**self.head(), "deals": self.deals}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Book:
        data = json.loads(text)
        book = cls(**{k: v for k, v in data.items() if k not in _INTERNAL})
        book.mark_saved()
        book.persisted_deals = 0  # not in the journal yet
        return book

    @classmethod
    def from_head(cls, head: dict[str, Any], deals: list[dict[str, Any]]) -> Book:
        book = cls(**head)
        book.deals = deals
        book.mark_saved()
        return book


_SCALARS = tuple(f.name for f in fields(Book) if f.name not in _INTERNAL | _LISTS)


@dataclass
class _Entry:
    """This process's view of one journal: the book, and where the file stood when last seen."""

    book: Book
    fd: int
    ino: int
    offset: int
    records: int


class StateStore:
    """Journaled account books, cached in memory per process and re-read only when another process wrote."""

    def __init__(self, root: Path | None = None):
        self._root = root
        self._paths: dict[tuple[Any, int], Path] = {}
        self._entries: dict[Path, _Entry] = {}
        self._locks: dict[Path, threading.Lock] = {}
        self._lock_files: dict[Path, Any] = {}
        self._guard = threading.Lock()

    @property
    def root(self) -> Path:
        if self._root is None:
            return sim_dir()
        if self._root not in _made:
            self._root.mkdir(parents=True, exist_ok=True)
            _made.add(self._root)
        return self._root

    def path(self, login: int) -> Path:
        """The account's journal; memoised per (data folder, login), since it is on every call's path."""
        key = (self._root or os.environ.get("MULTIACCOUNT_HOME"), login)
        path = self._paths.get(key)
        if path is None:
            path = self._paths[key] = self.root / f"account_{login}{JOURNAL_SUFFIX}"
        return path

    def _thread_lock(self, path: Path) -> threading.Lock:
        lock = self._locks.get(path)
        if lock is None:
            with self._guard:
                lock = self._locks.setdefault(path, threading.Lock())
        return lock

    def _lock_file(self, path: Path) -> Any:
        """The account's lock file, opened once per store (call with the thread lock held).

        Lock files are never deleted (`reset` keeps them), so a descriptor opened once stays the
        one every process locks; no `stat` per transaction to check it."""
        fh = self._lock_files.get(path)
        if fh is None:
            fh = self._lock_files[path] = open(path.with_suffix(".lock"), "a+")  # noqa: SIM115 - kept open
        return fh

    @contextmanager
    def _locked(self, path: Path, mode: int) -> Iterator[None]:
        with self._thread_lock(path):
            lock = self._lock_file(path)
            fcntl.flock(lock, mode)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @contextmanager
    def transaction(self, login: int, fresh: Callable[[], Book]) -> Iterator[Book]:
        """Exclusive access to one account's book; a line is appended only when `book.dirty` is set."""
        path = self.path(login)
        with self._locked(path, fcntl.LOCK_EX):
            book = self._sync(path)
            if book is None:
                book = self._legacy(path) or fresh()
                book.dirty = True
            try:
                yield book
            except BaseException:
                self._forget(path)  # the book may be half-changed: re-read it next time
                raise
            if book.dirty:
                book.dirty = False
                try:
                    self._commit(path, book)
                except BaseException:
                    self._forget(path)
                    raise

    def read_only(self, login: int) -> Book | None:
        path = self.path(login)
        with self._locked(path, fcntl.LOCK_SH):
            return self._sync(path)

    # ------------------------------------------------------------ reading
    def _forget(self, path: Path) -> None:
        entry = self._entries.pop(path, None)
        if entry is not None:
            os.close(entry.fd)

    def _sync(self, path: Path) -> Book | None:
        """The current book (lock held): cached, cached plus other processes' new lines, or loaded."""
        try:
            st = os.stat(path)
        except FileNotFoundError:
            self._forget(path)
            return None
        entry = self._entries.get(path)
        if entry is not None and entry.ino == st.st_ino and st.st_size >= entry.offset:
            if st.st_size > entry.offset:
                self._read_tail(entry, st.st_size)
            return entry.book
        self._forget(path)
        fd = os.open(path, os.O_RDWR | os.O_APPEND)
        try:
            st = os.fstat(fd)
            data = os.pread(fd, st.st_size, 0) if st.st_size else b""
            book, used, records = self._replay(None, data)
        except BaseException:
            os.close(fd)
            raise
        if book is None:  # an empty or cut-short first line: nothing was committed
            os.close(fd)
            return None
        self._entries[path] = _Entry(book, fd, st.st_ino, used, records)
        return book

    def _read_tail(self, entry: _Entry, size: int) -> None:
        data = os.pread(entry.fd, size - entry.offset, entry.offset)
        book, used, records = self._replay(entry.book, data)
        assert book is not None
        entry.book = book
        entry.offset += used
        entry.records += records

    @staticmethod
    def _replay(book: Book | None, data: bytes) -> tuple[Book | None, int, int]:
        """Apply the complete lines of journal bytes to `book`: (book, bytes used, lines used)."""
        end = data.rfind(b"\n") + 1
        records = 0
        for line in data[:end].splitlines():
            if not line:
                continue
            rec = json.loads(line)
            if "h" in rec:
                book = Book.from_head(rec["h"], rec["d"])
            elif book is not None:
                book.apply(rec)
            else:
                raise ValueError("sim journal starts with a delta line")
            records += 1
        return book, end, records

    def _legacy(self, path: Path) -> Book | None:
        """A book in the former whole-file format, to be written to the journal by this transaction."""
        old = path.with_suffix(LEGACY_SUFFIX)
        try:
            book = Book.from_json(old.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        book.persisted_deals = 0
        return book

    # ------------------------------------------------------------ writing
    def _commit(self, path: Path, book: Book) -> None:
        entry = self._entries.get(path)
        if entry is None:
            self._rewrite(path, book)
            path.with_suffix(LEGACY_SUFFIX).unlink(missing_ok=True)
            return
        if entry.records >= COMPACT_RECORDS:
            self._rewrite(path, book)
            return
        if os.fstat(entry.fd).st_size != entry.offset:  # a line cut short by a killed writer
            os.ftruncate(entry.fd, entry.offset)
        rec = book.delta_record()
        line = _line(rec)
        _write_all(entry.fd, line)
        entry.offset += len(line)
        entry.records += 1
        book.mark_delta_saved(rec)

    def _rewrite(self, path: Path, book: Book) -> None:
        """The whole book as a one-line journal, atomically replacing the old one (lock held)."""
        line = _line(book.full_record())
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            _write_all(fd, line)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        self._forget(path)
        fd = os.open(path, os.O_RDWR | os.O_APPEND)
        st = os.fstat(fd)
        book.mark_saved()
        self._entries[path] = _Entry(book, fd, st.st_ino, st.st_size, 1)


def _line(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, separators=(",", ":")) + "\n").encode()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def reset(root: Path | None = None) -> int:
    """Delete every simulated account (and the active scenario); returns how many files went.

    The empty `.lock` files stay: a process holding one open must keep locking the same file as
    a process that starts after the reset."""
    root = root or sim_dir()
    removed = 0
    files = [*root.glob(f"account_*{JOURNAL_SUFFIX}"), *root.glob(f"account_*{LEGACY_SUFFIX}"), root / SCENARIO_FILE]
    for p in files:
        if p.exists():
            p.unlink()
            removed += 1
    return removed
