"""Backup and restore of the store plus broker-side account states.

An archive (`multiaccount-backup-<UTC time>.tar.gz` under `paths.backups_dir()`) holds:
  manifest.json          first member: format, revision, source dialect, per-file SHA-256, row counts
  tables/<table>.jsonl   every row of every table, one canonical JSON object per line, ordered by key
  accounts.json          the account states/positions the caller passed (what the brokers said)

Rows are dumped dialect-neutrally (datetimes ISO UTC, Decimals as strings), so a SQLite backup restores
into PostgreSQL and back, and the SHA-256 of a table's dump is also its content checksum: restore
re-dumps the restored tables and compares. The snapshot is consistent: SQLite is copied with the
online-backup API first, PostgreSQL is read in one REPEATABLE READ, READ ONLY transaction.
An archive that fails any check is refused with `BackupCorruptError` before anything is written;
restore only writes into an empty database and never overwrites.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sqlite3
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Connection, Date, Engine, String, Table, create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from multiaccount import paths
from multiaccount.domain import utcnow
from multiaccount.store.db import current_revision, dispose_engine, get_engine, redact, upgrade
from multiaccount.store.models import Base
from multiaccount.store.types import ExactDecimal, UTCDateTime

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
PREFIX = "multiaccount-backup-"
SUFFIX = ".tar.gz"
NAME_RE = re.compile(rf"^{re.escape(PREFIX)}(\d{{8}}T\d{{6}}Z)(?:-(\d+))?{re.escape(SUFFIX)}$")
MANIFEST = "manifest.json"
ACCOUNTS = "accounts.json"
DEFAULT_KEEP = 30
DEFAULT_MAX_AGE = timedelta(days=90)
BATCH = 1000


class BackupError(Exception):
    """Base of backup/restore failures that need an operator (never retried blindly)."""


class BackupCorruptError(BackupError):
    """The archive is truncated, altered or not ours: it is refused and nothing is written."""


class RestoreTargetNotEmptyError(BackupError):
    """Restore only writes into a new (empty) database; the target already holds data."""


class RestoreVerificationError(BackupError):
    """The restored database does not match the archive (row counts or checksums differ)."""


@dataclass(frozen=True)
class TableSummary:
    rows: int
    sha256: str


@dataclass(frozen=True)
class BackupInfo:
    name: str
    path: Path
    created_at: datetime | None
    size: int
    revision: str = ""
    source_dialect: str = ""
    tables: dict[str, TableSummary] = field(default_factory=dict)
    accounts: int = 0
    sha256: str = ""  # of the archive file; empty in quick listings
    error: str | None = None

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables.values())


@dataclass(frozen=True)
class RestoreReport:
    target: str
    revision: str
    tables: dict[str, TableSummary]
    account_states: dict[str, Any]
    mismatches: list[str]

    @property
    def ok(self) -> bool:
        return not self.mismatches


# ------------------------------------------------------------------ canonical row encoding
def _encoder(table: Table) -> Callable[[Mapping[str, Any]], bytes]:
    def encode_value(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat()
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        return value

    names = [c.name for c in table.columns]

    def encode(row: Mapping[str, Any]) -> bytes:
        obj = {n: encode_value(row[n]) for n in names}
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False).encode() + b"\n"

    return encode


def _decoder(table: Table) -> Callable[[dict[str, Any]], dict[str, Any]]:
    converters: dict[str, Callable[[Any], Any]] = {}
    for col in table.columns:
        if isinstance(col.type, UTCDateTime):
            converters[col.name] = datetime.fromisoformat
        elif isinstance(col.type, ExactDecimal):
            converters[col.name] = Decimal
        elif isinstance(col.type, Date):
            converters[col.name] = date.fromisoformat
    expected = {c.name for c in table.columns}

    def decode(obj: dict[str, Any]) -> dict[str, Any]:
        if set(obj) != expected:
            raise BackupCorruptError(f"{table.name}: row columns {sorted(set(obj) ^ expected)} do not match "
                                     "the schema")
        return {k: (converters[k](v) if v is not None and k in converters else v) for k, v in obj.items()}

    return decode


def _ordered_select(table: Table, dialect: str):  # noqa: ANN202 - Select
    """Rows in primary-key order, byte-wise for strings on every dialect (so checksums agree)."""
    keys = []
    for col in table.primary_key.columns:
        keys.append(col.collate("C") if dialect == "postgresql" and isinstance(col.type, String) else col)
    return select(table).order_by(*keys)


def _dump_table(conn: Connection, table: Table, sink: BinaryIO | None) -> TableSummary:
    digest, rows, encode = hashlib.sha256(), 0, _encoder(table)
    result = conn.execution_options(yield_per=BATCH).execute(_ordered_select(table, conn.dialect.name))
    for row in result.mappings():
        line = encode(row)
        digest.update(line)
        if sink is not None:
            sink.write(line)
        rows += 1
    return TableSummary(rows, digest.hexdigest())


def table_checksums(url: str) -> dict[str, TableSummary]:
    """Row count and content checksum of every store table (dialect-neutral; equal stores agree)."""
    with _snapshot_connection(get_engine(url)) as conn:
        return {t.name: _dump_table(conn, t, None) for t in Base.metadata.sorted_tables}


# ------------------------------------------------------------------ consistent snapshot
@contextmanager
def _snapshot_connection(engine: Engine) -> Iterator[Connection]:
    """A connection that sees one consistent state of the whole database."""
    if engine.dialect.name == "sqlite":
        with tempfile.TemporaryDirectory(prefix="ma-snap-") as tmp:
            copy = Path(tmp) / "snapshot.db"
            raw = engine.raw_connection()
            try:
                dst = sqlite3.connect(copy)
                raw.driver_connection.backup(dst)  # online backup API: a consistent copy under writers
                dst.close()
            finally:
                raw.close()
            snap = create_engine(f"sqlite:///{copy}", poolclass=NullPool)
            try:
                with snap.connect() as conn:
                    yield conn
            finally:
                snap.dispose()
        return
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        conn.execute(text("SET TRANSACTION READ ONLY"))
        yield conn


# ------------------------------------------------------------------ create
def _archive_name(directory: Path, at: datetime) -> Path:
    stem = f"{PREFIX}{at.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    candidate, n = directory / f"{stem}{SUFFIX}", 1
    while candidate.exists():
        n += 1
        candidate = directory / f"{stem}-{n}{SUFFIX}"
    return candidate


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def create_backup(store, account_states: Mapping[str, Any] | None = None, *,  # noqa: ANN001 - Store
                  directory: Path | None = None, at: datetime | None = None, keep: int = DEFAULT_KEEP,
                  max_age: timedelta = DEFAULT_MAX_AGE, prune: bool = True) -> BackupInfo:
    """Write a consistent archive of the store plus `account_states` (JSON-able), index it, apply retention."""
    at = (at or utcnow()).astimezone(UTC)
    directory = Path(directory or paths.backups_dir())
    directory.mkdir(parents=True, exist_ok=True)
    try:
        accounts_blob = json.dumps(account_states or {}, sort_keys=True, indent=1, default=str,
                                   allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise BackupError(f"account states are not JSON-able: {exc}") from exc
    target = _archive_name(directory, at)
    with tempfile.TemporaryDirectory(prefix="ma-backup-", dir=directory) as tmp:
        work = Path(tmp)
        (work / "tables").mkdir()
        tables: dict[str, TableSummary] = {}
        with _snapshot_connection(store.engine) as conn:
            for table in Base.metadata.sorted_tables:
                with (work / "tables" / f"{table.name}.jsonl").open("wb") as sink:
                    tables[table.name] = _dump_table(conn, table, sink)
        (work / ACCOUNTS).write_bytes(accounts_blob)
        manifest = {
            "format": FORMAT_VERSION, "created_at": at.isoformat(), "revision": current_revision(store.url),
            "source_dialect": store.dialect,
            "tables": {n: {"rows": s.rows, "sha256": s.sha256, "file": f"tables/{n}.jsonl"}
                       for n, s in tables.items()},
            "files": {ACCOUNTS: hashlib.sha256(accounts_blob).hexdigest()},
            "accounts": len(account_states or {}),
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        partial = work / (target.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(work / MANIFEST, arcname=MANIFEST)
            tar.add(work / ACCOUNTS, arcname=ACCOUNTS)
            for name in tables:
                tar.add(work / "tables" / f"{name}.jsonl", arcname=f"tables/{name}.jsonl")
        with partial.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(partial, target)  # atomic: an archive under its final name is always complete
    info = BackupInfo(target.name, target, at, target.stat().st_size, manifest["revision"] or "", store.dialect,
                      tables, manifest["accounts"], _sha256_file(target))
    store.backups.record(info.name, str(target), at, info.size, info.sha256,
                         {n: s.rows for n, s in tables.items()})
    log.info("backup created", extra={"archive": str(target), "rows": info.total_rows, "bytes": info.size})
    if prune:
        prune_backups(directory, keep=keep, max_age=max_age, now=at, store=store)
    return info


# ------------------------------------------------------------------ read / verify
def _safe_member(name: str) -> bool:
    return not (name.startswith("/") or ".." in Path(name).parts)


def _open_archive(path: Path) -> tarfile.TarFile:
    if not path.is_file():
        raise BackupCorruptError(f"{path}: no such backup archive")
    try:
        return tarfile.open(path, "r:gz")
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise BackupCorruptError(f"{path.name}: not a readable tar.gz archive ({exc})") from exc


def _parse_manifest(raw: bytes, name: str) -> dict[str, Any]:
    try:
        manifest = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BackupCorruptError(f"{name}: manifest is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise BackupCorruptError(f"{name}: unsupported manifest format {manifest.get('format')!r}"
                                 if isinstance(manifest, dict) else f"{name}: manifest is not an object")
    for key in ("created_at", "revision", "tables", "files"):
        if key not in manifest:
            raise BackupCorruptError(f"{name}: manifest lacks '{key}'")
    return manifest


def _info_from_manifest(path: Path, manifest: dict[str, Any], sha256: str = "") -> BackupInfo:
    return BackupInfo(path.name, path, datetime.fromisoformat(manifest["created_at"]), path.stat().st_size,
                      manifest.get("revision") or "", manifest.get("source_dialect", ""),
                      {n: TableSummary(int(t["rows"]), t["sha256"]) for n, t in manifest["tables"].items()},
                      int(manifest.get("accounts", 0)), sha256)


def read_manifest(path: Path | str) -> dict[str, Any]:
    """The manifest (first member) only: cheap, used for listings. Does not verify the data."""
    path = Path(path)
    with _open_archive(path) as tar:
        try:
            first = tar.next()
            if first is None or first.name != MANIFEST:
                raise BackupCorruptError(f"{path.name}: first member is not {MANIFEST}")
            return _parse_manifest(tar.extractfile(first).read(), path.name)
        except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
            raise BackupCorruptError(f"{path.name}: archive unreadable ({exc})") from exc


@contextmanager
def _members(path: Path) -> Iterator[Iterator[tuple[str, BinaryIO]]]:
    """Stream (name, file object) of every member in archive order; any read error is corruption."""
    with _open_archive(path) as tar:
        def generate() -> Iterator[tuple[str, BinaryIO]]:
            for member in tar:
                if not member.isfile() or not _safe_member(member.name):
                    raise BackupCorruptError(f"{path.name}: unexpected member {member.name!r}")
                yield member.name, tar.extractfile(member)

        try:
            yield generate()
        except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
            raise BackupCorruptError(f"{path.name}: archive truncated or damaged ({exc})") from exc


def _digest_stream(fh: BinaryIO) -> tuple[str, int]:
    digest, lines = hashlib.sha256(), 0
    for chunk in iter(lambda: fh.read(1 << 20), b""):
        digest.update(chunk)
        lines += chunk.count(b"\n")
    return digest.hexdigest(), lines


def _expected_files(manifest: dict[str, Any]) -> dict[str, tuple[str, int | None]]:
    expected: dict[str, tuple[str, int | None]] = {
        t["file"]: (t["sha256"], int(t["rows"])) for t in manifest["tables"].values()}
    expected.update({n: (sha, None) for n, sha in manifest["files"].items()})
    return expected


def _check_member(path: Path, name: str, expected: dict[str, tuple[str, int | None]], sha: str, rows: int) -> None:
    if name not in expected:
        raise BackupCorruptError(f"{path.name}: unexpected member {name!r}")
    want_sha, want_rows = expected[name]
    if sha != want_sha:
        raise BackupCorruptError(f"{path.name}: checksum mismatch in {name}")
    if want_rows is not None and rows != want_rows:
        raise BackupCorruptError(f"{path.name}: {name} has {rows} rows, manifest says {want_rows}")


def _load_verified(path: Path) -> dict[str, Any]:
    """Stream every member once and check it against the manifest (bounded memory). Returns the manifest."""
    manifest: dict[str, Any] | None = None
    seen: set[str] = set()
    with _members(path) as members:
        for name, fh in members:
            if manifest is None:
                if name != MANIFEST:
                    raise BackupCorruptError(f"{path.name}: first member is not {MANIFEST}")
                manifest = _parse_manifest(fh.read(), path.name)
                expected = _expected_files(manifest)
                continue
            if name in seen:
                raise BackupCorruptError(f"{path.name}: member {name!r} appears twice")
            seen.add(name)
            _check_member(path, name, expected, *_digest_stream(fh))
    if manifest is None:
        raise BackupCorruptError(f"{path.name}: empty archive")
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupCorruptError(f"{path.name}: members missing {missing}")
    unknown = sorted(set(manifest["tables"]) - set(Base.metadata.tables))
    if unknown:
        raise BackupCorruptError(f"{path.name}: tables {unknown} are not part of this store's schema")
    return manifest


def _read_member(path: Path, wanted: str) -> bytes:
    with _members(path) as members:
        for name, fh in members:
            if name == wanted:
                return fh.read()
    raise BackupCorruptError(f"{path.name}: no member {wanted}")


def verify_backup(path: Path | str, store=None) -> BackupInfo:  # noqa: ANN001 - Store
    """Full check of an archive (every checksum, every row count); raises BackupCorruptError.
    With `store`, the archive's SHA-256 must also match the one indexed when it was written."""
    path = Path(path)
    manifest = _load_verified(path)
    info = _info_from_manifest(path, manifest, _sha256_file(path))
    if store is not None:
        indexed = store.backups.get(path.name)
        if indexed is not None and indexed.sha256 != info.sha256:
            raise BackupCorruptError(f"{path.name}: archive SHA-256 differs from the one recorded at creation")
        if indexed is not None:
            store.backups.mark_verified(path.name)
    return info


def read_account_states(path: Path | str) -> dict[str, Any]:
    """The broker-side account states stored in a (verified) archive."""
    path = Path(path)
    _load_verified(path)
    return json.loads(_read_member(path, ACCOUNTS))


def list_backups(directory: Path | None = None) -> list[BackupInfo]:
    """Archives in `directory`, newest first; unreadable ones are listed with `error` set."""
    directory = Path(directory or paths.backups_dir())
    out = []
    for path in directory.glob(f"{PREFIX}*{SUFFIX}"):
        match = NAME_RE.match(path.name)
        if not match:
            continue
        try:
            out.append(_info_from_manifest(path, read_manifest(path)))
        except BackupCorruptError as exc:
            stamp = datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            out.append(BackupInfo(path.name, path, stamp, path.stat().st_size, error=str(exc)))
    return sorted(out, key=lambda b: (b.created_at or datetime.min.replace(tzinfo=UTC), b.name), reverse=True)


# ------------------------------------------------------------------ retention
def prune_backups(directory: Path | None = None, *, keep: int = DEFAULT_KEEP, max_age: timedelta = DEFAULT_MAX_AGE,
                  now: datetime | None = None, store=None) -> list[Path]:  # noqa: ANN001 - Store
    """Delete archives beyond the newest `keep` or older than `max_age`; the newest is always kept."""
    if keep < 1:
        raise ValueError("keep must be at least 1: retention never deletes the newest backup")
    now = (now or utcnow()).astimezone(UTC)
    removed = []
    for index, info in enumerate(list_backups(directory)):
        too_old = info.created_at is not None and now - info.created_at > max_age
        if index > 0 and (index >= keep or too_old):
            info.path.unlink(missing_ok=True)
            removed.append(info.path)
            if store is not None:
                store.backups.mark_deleted(info.name, now)
    if removed:
        log.info("backups pruned", extra={"removed": [p.name for p in removed]})
    return removed


# ------------------------------------------------------------------ restore
def _assert_empty(url: str) -> None:
    engine = get_engine(url)

    present = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in present and conn.execute(select(func.count()).select_from(table)).scalar():
                raise RestoreTargetNotEmptyError(
                    f"{redact(url)} already holds data (table {table.name}); restore only into a new database")
    foreign = present - set(Base.metadata.tables) - {"multiaccount_alembic_version"}
    if foreign:
        raise RestoreTargetNotEmptyError(f"{redact(url)} holds tables that are not ours: {sorted(foreign)}")


def _reset_sequences(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        return
    for table in Base.metadata.sorted_tables:
        col = table.autoincrement_column
        if col is not None:
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{col.name}'), "
                              f"COALESCE(MAX({col.name}), 1), MAX({col.name}) IS NOT NULL) FROM {table.name}"))


def _insert_stream(conn: Connection, table: Table, fh: BinaryIO) -> tuple[str, int]:
    """Insert a table dump line by line in batches; returns (sha256, rows) of what was read, so a
    member that changed since verification is caught and the whole restore rolls back."""
    decode, digest, rows, batch = _decoder(table), hashlib.sha256(), 0, []
    for line in fh:
        digest.update(line)
        rows += 1
        batch.append(decode(json.loads(line)))
        if len(batch) >= BATCH:
            conn.execute(table.insert(), batch)
            batch = []
    if batch:
        conn.execute(table.insert(), batch)
    return digest.hexdigest(), rows


def restore_backup(path: Path | str, target_url: str) -> RestoreReport:
    """Restore an archive into the empty database at `target_url`, then verify it row for row.

    The archive is fully verified before the target is touched; a non-empty target is refused.
    Raises RestoreVerificationError when the restored content differs from the archive.
    """
    path = Path(path)
    manifest = _load_verified(path)
    if make_url(target_url).get_backend_name() not in ("sqlite", "postgresql"):
        raise BackupError(f"unsupported target database {redact(target_url)}")
    _assert_empty(target_url)
    revision = manifest["revision"] or "head"
    upgrade(target_url, revision)
    tables_by_file = {t["file"]: Base.metadata.tables[n] for n, t in manifest["tables"].items()}
    expected = _expected_files(manifest)
    accounts: dict[str, Any] = {}
    with get_engine(target_url).begin() as conn, _members(path) as members:
        for name, fh in members:
            if name == ACCOUNTS:
                blob = fh.read()
                _check_member(path, name, expected, hashlib.sha256(blob).hexdigest(), 0)
                accounts = json.loads(blob)
            elif name in tables_by_file:
                _check_member(path, name, expected, *_insert_stream(conn, tables_by_file[name], fh))
        _reset_sequences(conn)
    restored = table_checksums(target_url)
    mismatches = [f"{name}: archive {TableSummary(int(t['rows']), t['sha256'])} != restored {restored.get(name)}"
                  for name, t in manifest["tables"].items()
                  if restored.get(name) != TableSummary(int(t["rows"]), t["sha256"])]
    report = RestoreReport(redact(target_url), revision, restored, accounts, mismatches)
    if mismatches:
        raise RestoreVerificationError("restore verification failed: " + "; ".join(mismatches))
    upgrade(target_url)  # archives from an older schema are brought to head after verification
    log.info("backup restored", extra={"archive": path.name, "target": redact(target_url),
                                       "rows": sum(s.rows for s in restored.values())})
    return report


def disaster_recovery_drill(directory: Path | None = None, scratch_url: str | None = None) -> RestoreReport:
    """Restore the newest readable archive into a scratch database and verify it (the monthly DR test).

    Without `scratch_url` a temporary SQLite file is used and deleted afterwards.
    Raises BackupError when there is no readable archive, or the restore's own errors."""
    candidates = [b for b in list_backups(directory) if b.error is None]
    if not candidates:
        raise BackupError(f"no readable backup archive in {directory or paths.backups_dir()}")
    if scratch_url is not None:
        return restore_backup(candidates[0].path, scratch_url)
    with tempfile.TemporaryDirectory(prefix="ma-dr-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'drill.db'}"
        try:
            return restore_backup(candidates[0].path, url)
        finally:
            dispose_engine(url)


__all__ = [
    "BackupCorruptError", "BackupError", "BackupInfo", "RestoreReport", "RestoreTargetNotEmptyError",
    "RestoreVerificationError", "TableSummary", "create_backup", "disaster_recovery_drill", "list_backups",
    "prune_backups", "read_account_states", "read_manifest", "restore_backup", "table_checksums",
    "verify_backup",
]
