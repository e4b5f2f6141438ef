"""The configuration is read as the TypeScript CLI reads it: same files, variables, precedence, errors."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import pytest

from provisioner import Client, ConfigError, load_config
from conftest import REPO

FILE = """
[defaults]
url = "https://file.example.com/"
retries = 5
timeout = 12
audience = "file-audience"
github_url = "https://ghe.example.com"
client_id = "Iv1.file"

[credentials]
github_token = "gh-from-file"
token = "jwt-from-file"
"""


def write(home: Path, text: str, mode: int = 0o600, name: str = ".config/provisioner.toml") -> Path:
    path = home / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def as_typescript_names(config: Any) -> Dict[str, Any]:
    """The Python Config in the shape the TypeScript loadConfig returns, to compare the two."""
    named = {
        "url": config.url,
        "retries": config.retries,
        "timeoutMs": int(config.timeout * 1000),
        "token": config.token,
        "githubToken": config.github_token,
        "audience": config.audience,
        "githubUrl": config.github_url,
        "clientId": config.client_id,
        "cacheDir": config.cache_dir,
        "configPath": config.config_path,
    }
    return {k: v for k, v in named.items() if v is not None}


def python_reading(env: Dict[str, str], home: str) -> Dict[str, Any]:
    try:
        return as_typescript_names(load_config(env, home))
    except ConfigError as error:
        return {"error": {"field": error.field, "message": str(error)}}


def without_parser_detail(reading: Dict[str, Any]) -> Dict[str, Any]:
    """The TOML parsers word their complaints differently; the rest of the message must match."""
    if "error" in reading and " is not valid TOML: " in reading["error"]["message"]:
        message = reading["error"]["message"]
        return {"error": {**reading["error"], "message": message[: message.index(" is not valid TOML: ")]}}
    return reading


def typescript_readings(cases: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    script = """
const { loadConfig, ConfigError } = await import('./client/config.ts');
const cases = JSON.parse(process.argv[1]);
console.log(JSON.stringify(cases.map(({ env, home }) => {
  try { return JSON.parse(JSON.stringify(loadConfig(env, home))); }
  catch (error) { if (error instanceof ConfigError) return { error: { field: error.field, message: error.message } }; throw error; }
})));
"""
    done = subprocess.run(["node", "--import", "tsx", "--input-type=module", "-e", script, json.dumps(cases)], cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_reads_every_case_exactly_as_the_typescript_client_does(tmp_path: Path) -> None:
    homes = {name: tmp_path / name for name in ("empty", "file", "open", "bad", "section", "xdg")}
    for home in homes.values():
        home.mkdir()
    write(homes["file"], FILE)
    write(homes["open"], FILE, mode=0o644)
    write(homes["bad"], "[defaults\nurl = 1")
    write(homes["section"], 'defaults = "x"')
    write(homes["xdg"], '[defaults]\nurl = "http://xdg.example.com:8080"\nretries = true\n', name="xdg/provisioner.toml")

    cases: List[Dict[str, Any]] = [
        {"env": {}, "home": str(homes["empty"])},
        {"env": {}, "home": str(homes["file"])},
        # Each variable over its field of the file.
        {
            "env": {
                "PROVISIONER_URL": "http://127.0.0.1:4104///",
                "PROVISIONER_RETRIES": "0",
                "PROVISIONER_TIMEOUT": "90",
                "PROVISIONER_TOKEN": "jwt-from-env",
                "PROVISIONER_GITHUB_TOKEN": "gh-from-env",
                "PROVISIONER_OIDC_AUDIENCE": "env-audience",
                "PROVISIONER_GITHUB_URL": "https://github.example.org",
                "PROVISIONER_CLIENT_ID": "Iv1.env",
                "PROVISIONER_CACHE_DIR": "/somewhere/cache",
            },
            "home": str(homes["file"]),
        },
        {"env": {"PROVISIONER_CONFIG": str(homes["file"] / ".config/provisioner.toml")}, "home": str(homes["empty"])},
        {"env": {"XDG_CONFIG_HOME": str(homes["xdg"] / "xdg"), "XDG_CACHE_HOME": "/xdg-cache"}, "home": str(homes["xdg"])},
        {"env": {}, "home": str(homes["open"])},
        {"env": {}, "home": str(homes["section"])},
        {"env": {}, "home": str(homes["bad"])},
        {"env": {"PROVISIONER_URL": "localhost:4104"}, "home": str(homes["empty"])},
        {"env": {"PROVISIONER_URL": "https://x.example.com/?a=1"}, "home": str(homes["empty"])},
        {"env": {"PROVISIONER_URL": "ftp://x.example.com"}, "home": str(homes["empty"])},
        {"env": {"PROVISIONER_RETRIES": ""}, "home": str(homes["empty"])},
        {"env": {"PROVISIONER_RETRIES": "11"}, "home": str(homes["empty"])},
        {"env": {"PROVISIONER_TIMEOUT": "1.5"}, "home": str(homes["empty"])},
        {"env": {"PROVISIONER_TIMEOUT": " 7 "}, "home": str(homes["empty"])},
    ]

    expected = typescript_readings(cases)
    actual = [python_reading(case["env"], case["home"]) for case in cases]

    for case, python, typescript in zip(cases, actual, expected):
        assert (case, without_parser_detail(python)) == (case, without_parser_detail(typescript))


def test_the_variables_win_over_the_file_and_the_file_over_the_defaults(tmp_path: Path) -> None:
    write(tmp_path, FILE)

    from_file = load_config({}, str(tmp_path))
    from_env = load_config({"PROVISIONER_URL": "http://127.0.0.1:9", "PROVISIONER_RETRIES": "1"}, str(tmp_path))
    built_in = load_config({}, str(tmp_path / "nobody"))

    assert (from_file.url, from_file.retries, from_file.timeout, from_file.github_token) == ("https://file.example.com", 5, 12.0, "gh-from-file")
    assert (from_env.url, from_env.retries, from_env.audience) == ("http://127.0.0.1:9", 1, "file-audience")
    assert (built_in.url, built_in.retries, built_in.timeout, built_in.cache_dir) == ("http://127.0.0.1:2323", 3, 30.0, str(tmp_path / "nobody/.cache/provisioner"))


def test_a_config_file_others_can_read_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = write(tmp_path, FILE, mode=0o640)

    with pytest.raises(ConfigError) as refused:
        Client.from_config({}, home=str(tmp_path))

    assert refused.value.field == "file"
    assert str(refused.value) == f"{path} is readable by others; run: chmod 600 {path}"


def test_from_config_overrides_replace_single_fields(tmp_path: Path) -> None:
    client = Client.from_config({"PROVISIONER_CONFIG": str(tmp_path / "none.toml")}, home=str(tmp_path), url="http://127.0.0.1:1", retries=0)

    assert (client.config.url, client.config.retries, client.config.timeout) == ("http://127.0.0.1:1", 0, 30.0)
