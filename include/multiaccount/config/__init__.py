"""Configuration: pydantic models of the seed's files, loading with full error reports, secrets, scaffolding."""

from multiaccount.config.loader import ConfigError, ConfigProblem, FirmConfig, default_config_dir, load_firm
from multiaccount.config.secrets import MissingSecret, broker_mode, resolve_secret

__all__ = ["ConfigError", "ConfigProblem", "FirmConfig", "MissingSecret", "broker_mode", "default_config_dir",
           "load_firm", "resolve_secret"]
