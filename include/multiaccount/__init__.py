"""multiaccount: run a fleet of MetaTrader 5 accounts as one book."""

__version__ = "0.1.0"
