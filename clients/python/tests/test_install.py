"""``pip install ./clients/python`` works offline in a fresh venv, and installs a typed package."""
from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

from conftest import REPO

PROJECT = REPO / "clients" / "python"


def test_installs_offline_without_build_isolation_in_a_fresh_venv(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "v")], check=True)
    python = tmp_path / "v" / "bin" / "python"

    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-index", "--no-build-isolation", str(PROJECT)],
        capture_output=True,
        text=True,
    )
    probe = subprocess.run(
        [str(python), "-c", "import os, provisioner; print(os.path.isfile(os.path.join(os.path.dirname(provisioner.__file__), 'py.typed')), provisioner.Client.from_config.__doc__ is not None)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )

    assert install.returncode == 0, install.stderr
    assert probe.stdout.split() == ["True", "True"], probe.stderr


def test_the_build_backend_reads_the_project_the_same_without_tomllib(monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(PROJECT / "_build"))
    backend = importlib.import_module("backend")
    with_tomllib = backend._project()

    monkeypatch.setitem(sys.modules, "tomllib", None)  # as below 3.11
    without = backend._project()

    assert without == with_tomllib
    assert without["name"] == "provisioner-client" and without["optional-dependencies"] == {"toml": ["tomli>=1.1; python_version < '3.11'"]}
