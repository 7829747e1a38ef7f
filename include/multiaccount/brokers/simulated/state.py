"""Persistence of simulated accounts, shared by every process on the machine.

One JSON file per account login under `MULTIACCOUNT_HOME/sim/`, changed only inside
`transaction()`: an exclusive `flock` on a side lock file (works across processes and between
threads, since each transaction opens its own descriptor), a read that is skipped when the file is
unchanged since this process last saw it, and an atomic replace on write. The trade server of a
real broker plays this role; here it lets Airflow tasks, `multiaccount serve`, the CLI and the demo
see one simulated firm.
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


@dataclass
class Book:
    """What the trade server knows about one account. Money in account currency (float, like MT5)."""

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

    def ticket(self) -> int:
        t = 10_000_000 + self.next_ticket
        self.next_ticket += 1
        return t

    def to_json(self) -> str:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "dirty"}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Book:
        return cls(**json.loads(text))


class StateStore:
    """File-locked, atomically written account books with a per-process read cache."""

    def __init__(self, root: Path | None = None):
        self._root = root
        self._cache: dict[Path, tuple[tuple[int, int, int], Book]] = {}
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
        return self.root / f"account_{login}.json"

    def _thread_lock(self, path: Path) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(path, threading.Lock())

    def _lock_file(self, path: Path) -> Any:
        """The account's lock file, opened once per store (call with the thread lock held)."""
        lock_path = path.with_suffix(".lock")
        fh = self._lock_files.get(path)
        if fh is None or not lock_path.exists():  # reset() removed it: open the new one
            if fh is not None:
                fh.close()
            fh = self._lock_files[path] = open(lock_path, "a+")  # noqa: SIM115 - kept open on purpose
        return fh

    @contextmanager
    def transaction(self, login: int, fresh: Callable[[], Book]) -> Iterator[Book]:
        """Exclusive access to one account's book; written back only when `book.dirty` is set."""
        path = self.path(login)
        with self._thread_lock(path):
            lock = self._lock_file(path)
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                book = self._read(path) or fresh()
                if not path.exists():
                    book.dirty = True
                try:
                    yield book
                except BaseException:
                    self._cache.pop(path, None)
                    raise
                if book.dirty:
                    book.dirty = False
                    self._write(path, book)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self, path: Path) -> Book | None:
        try:
            st = path.stat()
        except FileNotFoundError:
            self._cache.pop(path, None)
            return None
        sig = (st.st_mtime_ns, st.st_size, st.st_ino)
        cached = self._cache.get(path)
        if cached and cached[0] == sig:
            return cached[1]
        book = Book.from_json(path.read_text(encoding="utf-8"))
        self._cache[path] = (sig, book)
        return book

    def _write(self, path: Path, book: Book) -> None:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(book.to_json())
        os.replace(tmp, path)
        st = path.stat()
        self._cache[path] = ((st.st_mtime_ns, st.st_size, st.st_ino), book)

    def read_only(self, login: int) -> Book | None:
        path = self.path(login)
        with self._thread_lock(path):
            lock = self._lock_file(path)
            fcntl.flock(lock, fcntl.LOCK_SH)
            try:
                return self._read(path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def reset(root: Path | None = None) -> int:
    """Delete every simulated account (and the active scenario); returns how many files went."""
    root = root or sim_dir()
    removed = 0
    for p in list(root.glob("account_*.json")) + list(root.glob("*.lock")) + [root / SCENARIO_FILE]:
        if p.exists():
            p.unlink()
            removed += 1
    return removed
