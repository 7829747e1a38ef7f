"""The `multiaccount` command line. Each package contributes its commands through `register(app)`
in its own `cli` module, so this file stays a table of contents."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(name="multiaccount", no_args_is_help=True, add_completion=False,
                  help="Operate a fleet of MetaTrader 5 accounts as one book.")

# Modules that contribute commands, in help order. A module that does not exist yet is skipped;
# one that fails to import for any other reason is a bug and raises.
COMMAND_MODULES = [
    "multiaccount.config.cli",
    "multiaccount.store.cli",
    "multiaccount.brokers.cli",
    "multiaccount.realtime.cli",
    "multiaccount.procedures.cli",
    "multiaccount.reports.cli",
    "multiaccount.rebalancing.cli",
    "multiaccount.alerts.cli",
    "multiaccount.dashboard.cli",
    "multiaccount.checklists.cli",
    "multiaccount.simulation.cli",
]


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
                continue
            raise
        module.register(app)


_register_all()

if __name__ == "__main__":
    app()
