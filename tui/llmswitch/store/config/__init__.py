"""The providers file (``config.toml``): what it describes, how it is read, how it is edited.

* :mod:`.model`: :class:`ProviderConfig`, :class:`Config`, the field tables, presets as providers;
* :mod:`.validate`: reading and parsing, the top level and each provider's assembly;
* :mod:`.fields`: one small checker per field (:data:`FIELD_CHECKS`) and per rule (:data:`RULES`);
* :mod:`.edit`: add, replace or remove one provider, touching only its lines.

Every problem is an :class:`llmswitch.base.errors.Problem` (cause, fix, file, line, key); a file
with errors raises :class:`llmswitch.base.errors.ConfigError`.
"""

from __future__ import annotations

from ...base.errors import ConfigError, UnknownProvider
from .edit import HEADER, add_provider, change_settings, remove_provider, render_provider, written_settings
from .fields import FIELD_CHECKS, PLACEHOLDER_MODELS, RULES, check_env_name, check_model_id, model_id_problem
from .model import (
    DEFAULT_TIMEOUT,
    HEADER_SOURCE_FIELDS,
    PREFERENCE_FIELDS,
    PROVIDER_FIELDS,
    PROVIDER_ID,
    SECRET_FIELD_NAMES,
    TOP_LEVEL,
    Config,
    HeaderSource,
    Problem,
    ProviderConfig,
    did_you_mean,
    id_for_commands,
    plain_http,
    plain_http_warning,
    provider_from_preset,
    unknown_provider,
    unknown_provider_message,
)
from .validate import is_loopback, normalize_base_url, parse
from .validate import load as load_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


def load(path: Path | None = None) -> Config:
    """The providers file (:func:`.validate.load`); the user's own one also gets the team's shared
    providers below it (:func:`llmswitch.store.team.layer`). Edits read the file alone (``load_file``)."""
    config = load_file(path)
    if path is not None:
        return config
    from ..team import layer

    return layer(config)

__all__ = [
    "DEFAULT_TIMEOUT", "FIELD_CHECKS", "HEADER", "HEADER_SOURCE_FIELDS", "PLACEHOLDER_MODELS", "PREFERENCE_FIELDS",
    "PROVIDER_FIELDS", "PROVIDER_ID", "RULES", "SECRET_FIELD_NAMES", "TOP_LEVEL", "Config", "ConfigError",
    "HeaderSource", "Problem", "ProviderConfig", "UnknownProvider", "add_provider", "change_settings",
    "check_env_name", "check_model_id", "did_you_mean", "id_for_commands", "is_loopback", "load",
    "load_file", "model_id_problem", "normalize_base_url", "parse", "plain_http", "plain_http_warning", "provider_from_preset",
    "remove_provider", "render_provider", "unknown_provider", "unknown_provider_message", "written_settings",
]
