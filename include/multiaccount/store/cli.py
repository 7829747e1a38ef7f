"""`multiaccount db upgrade|current` and `multiaccount backup create|list|verify|restore`.

Exit codes: 0 ok; 1 usage/other error or store not at head; 2 corrupt archive; 3 restore target not
empty; 4 restore verification failed.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

EXIT_CORRUPT, EXIT_NOT_EMPTY, EXIT_MISMATCH = 2, 3, 4

db_app = typer.Typer(no_args_is_help=True, help="Create and migrate the store database.")
backup_app = typer.Typer(no_args_is_help=True, help="Back up, verify and restore the store.")
console = Console()

URL_OPTION = typer.Option(None, "--url", help="Database URL (default: MULTIACCOUNT_DB_URL or <home>/multiaccount.db)")
DIR_OPTION = typer.Option(None, "--dir", help="Backup folder (default: <home>/backups)")


@db_app.command("upgrade")
def db_upgrade(url: str = URL_OPTION,
               revision: str = typer.Option("head", "--revision", help="Target revision")) -> None:
    """Create the schema or migrate it to the latest revision (idempotent)."""
    from multiaccount.store.db import db_url, redact, upgrade

    url = url or db_url()
    reached = upgrade(url, revision)
    console.print(f"[green]OK[/green] {escape(redact(url))} at revision [bold]{reached}[/bold]")


@db_app.command("current")
def db_current(url: str = URL_OPTION) -> None:
    """Show the database's revision and the code's head (exit 1 when they differ)."""
    from multiaccount.store.db import current_revision, db_url, head_revision, redact

    url = url or db_url()
    current, head = current_revision(url), head_revision()
    style = "green" if current == head else "red"
    console.print(f"{escape(redact(url))}: [{style}]{current or 'not migrated'}[/{style}] (head {head})")
    if current != head:
        raise typer.Exit(1)


def _resolve(archive: str, directory: Path | None) -> Path:
    from multiaccount import paths

    path = Path(archive)
    if not path.exists() and not path.is_absolute():
        path = Path(directory or paths.backups_dir()) / archive
    return path


@backup_app.command("create")
def backup_create(
    accounts_json: Path = typer.Option(None, "--accounts-json", exists=True, dir_okay=False,
                                       help="JSON file of broker-side account states/positions to include"),
    directory: Path = DIR_OPTION,
    keep: int = typer.Option(30, "--keep", min=1, help="Retention: keep the newest N archives"),
    max_age_days: float = typer.Option(90, "--max-age-days", min=0, help="Retention: delete older archives"),
    prune: bool = typer.Option(True, "--prune/--no-prune", help="Apply retention after writing"),
    url: str = URL_OPTION,
) -> None:
    """Write a consistent, checksummed archive of the store (plus account states) and apply retention."""
    from multiaccount.store import Store
    from multiaccount.store.backup import BackupError, create_backup

    states = json.loads(accounts_json.read_text()) if accounts_json else {}
    try:
        info = create_backup(Store.open(url), states, directory=directory, keep=keep,
                             max_age=timedelta(days=max_age_days), prune=prune)
    except BackupError as exc:
        console.print(f"[red]backup failed[/red]: {escape(str(exc))}")
        raise typer.Exit(1) from None
    console.print(f"[green]created[/green] {escape(str(info.path))}: {info.total_rows} rows in "
                  f"{len(info.tables)} tables, {info.accounts} accounts, {info.size:,} bytes, sha256 {info.sha256[:12]}")


@backup_app.command("list")
def backup_list(directory: Path = DIR_OPTION) -> None:
    """Archives, newest first (from their manifests; use `verify` for a full check)."""
    from multiaccount.store.backup import list_backups

    infos = list_backups(directory)
    table = Table(title=f"backups ({len(infos)})")
    for col in ("name", "created (UTC)", "size", "rows", "accounts", "revision", "from", "status"):
        table.add_column(col)
    for b in infos:
        status = f"[red]{escape(b.error)}[/red]" if b.error else "[green]ok[/green]"
        table.add_row(b.name, f"{b.created_at:%Y-%m-%d %H:%M:%S}" if b.created_at else "?", f"{b.size:,}",
                      f"{b.total_rows:,}", str(b.accounts), b.revision, b.source_dialect, status)
    console.print(table)


@backup_app.command("verify")
def backup_verify(archive: str = typer.Argument(..., help="Archive path or name in the backup folder"),
                  directory: Path = DIR_OPTION, url: str = URL_OPTION) -> None:
    """Check every checksum and row count of an archive (exit 2 when corrupt)."""
    from multiaccount.store import Store
    from multiaccount.store.backup import BackupCorruptError, verify_backup

    path = _resolve(archive, directory)
    try:
        info = verify_backup(path, Store.open(url))
    except BackupCorruptError as exc:
        console.print(f"[red]CORRUPT[/red] {escape(str(exc))}")
        raise typer.Exit(EXIT_CORRUPT) from None
    console.print(f"[green]OK[/green] {escape(info.name)}: {len(info.tables)} tables, {info.total_rows} rows, "
                  f"revision {info.revision}, sha256 {info.sha256[:12]}")


@backup_app.command("restore")
def backup_restore(archive: str = typer.Argument(..., help="Archive path or name in the backup folder"),
                   target: str = typer.Option(..., "--target", help="URL of a NEW (empty) database"),
                   directory: Path = DIR_OPTION,
                   create: bool = typer.Option(True, "--create/--no-create",
                                               help="Create the PostgreSQL target database if missing")) -> None:
    """Restore into a new database and verify it row for row (never overwrites existing data)."""
    from multiaccount.store.backup import (
        BackupCorruptError,
        RestoreTargetNotEmptyError,
        RestoreVerificationError,
        restore_backup,
    )
    from multiaccount.store.db import create_database

    path = _resolve(archive, directory)
    try:
        if create:
            create_database(target)
        report = restore_backup(path, target)
    except BackupCorruptError as exc:
        console.print(f"[red]CORRUPT[/red] {escape(str(exc))}; nothing was written")
        raise typer.Exit(EXIT_CORRUPT) from None
    except RestoreTargetNotEmptyError as exc:
        console.print(f"[red]REFUSED[/red] {escape(str(exc))}")
        raise typer.Exit(EXIT_NOT_EMPTY) from None
    except RestoreVerificationError as exc:
        console.print(f"[red]VERIFICATION FAILED[/red] {escape(str(exc))}")
        raise typer.Exit(EXIT_MISMATCH) from None
    table = Table(title=f"restored into {report.target}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("sha256")
    for name, summary in report.tables.items():
        table.add_row(name, str(summary.rows), summary.sha256[:12])
    console.print(table)
    console.print(f"[green]verified[/green]: {len(report.tables)} tables match the archive; "
                  f"{len(report.account_states)} account states")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(backup_app, name="backup")
