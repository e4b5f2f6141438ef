"""Client configuration, read exactly as the TypeScript CLI reads it (client/config.ts).

``~/.config/provisioner.toml`` (or ``PROVISIONER_CONFIG``, or ``$XDG_CONFIG_HOME/provisioner.toml``)
gives ``[defaults]`` and ``[credentials]``; each ``PROVISIONER_*`` variable overrides its field; built-in
defaults fill the rest. Sharing one reading keeps ``provisioner login`` and Python on the same API
and the same login cache.
"""
from __future__ import annotations

import json
import math
import os
import re
import stat
import sys
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from .errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # below 3.11 the one optional dependency; without it only a config file cannot be read
    try:
        import tomli as tomllib
    except ImportError:
        tomllib = None


@dataclass(frozen=True)
class Config:
    """What the client works with; every field has the meaning of its TypeScript twin (ClientConfig)."""

    url: str
    """The API's base URL, without trailing slashes."""
    retries: int
    """Extra attempts on 429, 503 and network errors."""
    timeout: float
    """Seconds per request."""
    audience: str
    """The audience of the GitHub Actions OIDC token the client requests."""
    github_url: str
    """GitHub's web URL, for the device flow (GitHub Enterprise: https://HOST)."""
    cache_dir: str
    """Where the user JWT and cluster JWTs are cached (0600 files)."""
    config_path: str
    """The file read, if it exists."""
    token: Optional[str] = None
    """A user JWT to use as is (PROVISIONER_TOKEN), e.g. in CI."""
    api_token: Optional[str] = None
    """A Provisioner API token (``prv_...``, PROVISIONER_API_TOKEN) exchanged for a scoped user JWT when none is cached."""
    github_token: Optional[str] = None
    """A GitHub token to log in with when no valid user JWT is cached."""
    client_id: Optional[str] = None
    """The OAuth app client id for the device flow."""


# One setting as read: the field as the file spells it, its value, and where it was set.
Setting = Tuple[str, Any, str]


def load_config(env: Optional[Mapping[str, str]] = None, home: Optional[str] = None) -> Config:
    """Reads the configuration; raises ConfigError naming the field and where it was set."""
    env = os.environ if env is None else env
    home = os.path.expanduser("~") if home is None else home
    config_home = _given(env.get("XDG_CONFIG_HOME"), os.path.join(home, ".config"))
    config_path = _given(env.get("PROVISIONER_CONFIG"), os.path.join(config_home, "provisioner.toml"))
    file = _read_config_file(config_path)

    def setting(variable: str, section: str, field: str) -> Optional[Setting]:
        """The environment variable over the file's ``[section] field``; None when neither is set."""
        if variable in env:
            return (field, env[variable], variable)
        value = file.get(section, {}).get(field)
        return None if value is None else (field, value, f"{field} in [{section}] of {config_path}")

    timeout = _whole(setting("PROVISIONER_TIMEOUT", "defaults", "timeout"), 1, 600, " (seconds)")
    retries = _whole(setting("PROVISIONER_RETRIES", "defaults", "retries"), 0, 10)
    cache_home = _given(env.get("XDG_CACHE_HOME"), os.path.join(home, ".cache"))
    return Config(
        url=_given(_http_url(setting("PROVISIONER_URL", "defaults", "url")), "http://127.0.0.1:2323"),
        retries=3 if retries is None else retries,
        timeout=float(30 if timeout is None else timeout),
        token=_text(setting("PROVISIONER_TOKEN", "credentials", "token")),
        api_token=_text(setting("PROVISIONER_API_TOKEN", "credentials", "api_token")),
        github_token=_text(setting("PROVISIONER_GITHUB_TOKEN", "credentials", "github_token")),
        audience=_given(_text(setting("PROVISIONER_OIDC_AUDIENCE", "defaults", "audience")), "provisioner"),
        github_url=_given(_http_url(setting("PROVISIONER_GITHUB_URL", "defaults", "github_url")), "https://github.com"),
        client_id=_text(setting("PROVISIONER_CLIENT_ID", "defaults", "client_id")),
        cache_dir=_given(env.get("PROVISIONER_CACHE_DIR"), os.path.join(cache_home, "provisioner")),
        config_path=config_path,
    )


def _given(value: Optional[str], fallback: str) -> str:
    """``value ?? fallback``: as in the TypeScript client, an empty string is a value, not absent."""
    return fallback if value is None else value


def _read_config_file(path: str) -> Dict[str, Dict[str, Any]]:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return {}
    # The file may hold credentials: refuse it while others can read it.
    if stat.S_IMODE(mode) & 0o077:
        raise ConfigError("file", f"{path} is readable by others; run: chmod 600 {path}")
    if tomllib is None:
        raise ConfigError("file", f"reading {path} needs Python 3.11 or tomli: pip install tomli (or set PROVISIONER_* variables instead).")
    try:
        with open(path, "rb") as handle:
            parsed = tomllib.load(handle)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError("file", f"{path} is not valid TOML: {error}") from None
    for section in ("defaults", "credentials"):
        if section in parsed and not isinstance(parsed[section], dict):
            raise ConfigError(section, f"{section} in {path} must be a table ([{section}]), not a value.")
    return parsed


def _text(setting: Optional[Setting]) -> Optional[str]:
    if setting is None:
        return None
    field, value, source = setting
    if not isinstance(value, str):
        raise ConfigError(field, f"{source} must be a string in quotes (got {_shown(value)}).")
    return value


def _http_url(setting: Optional[Setting]) -> Optional[str]:
    """An http(s) base URL without its trailing slashes; the client appends API paths to it."""
    value = _text(setting)
    if setting is None or value is None:
        return None
    field, _, source = setting
    problem = f'{source} must be an http:// or https:// URL such as https://provisioner.example.com (got "{value}"'
    try:
        url = urlsplit(value)
        port = url.port  # raises on a port that is not a number
    except ValueError:
        raise ConfigError(field, f"{problem}).") from None
    del port
    if url.scheme not in ("http", "https") or not url.hostname:
        # A host:port without a scheme is the likely mistake; suggest the local form.
        hint = f"; did you mean http://{value}?" if re.fullmatch(r"[\w.-]+:\d+", value) else ""
        raise ConfigError(field, f"{problem}{hint}).")
    # A query or fragment would end up in the middle of every request's URL.
    if url.query or url.fragment or url.username is not None or url.password is not None:
        raise ConfigError(field, f"{problem}): no query, fragment or credentials in it.")
    return value.rstrip("/")


def _whole(setting: Optional[Setting], low: int, high: int, unit: str = "") -> Optional[int]:
    if setting is None:
        return None
    field, value, source = setting
    number = _number(value)
    if number is None or not number.is_integer() or number < low or number > high:
        raise ConfigError(field, f"{source} must be a whole number from {low} to {high}{unit} (got {_shown(value)}).")
    return int(number)


def _number(value: Any) -> Optional[float]:
    """The value as JavaScript's Number() reads it; an empty variable is a mistake, not zero."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value.strip():
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _shown(value: Any) -> str:
    """The value as the TypeScript client quotes it (JSON.stringify), so both say the same."""
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return repr(value)
