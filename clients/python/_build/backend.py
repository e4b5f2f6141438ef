"""The build backend: setuptools wherever it can build a wheel, else the same wheel from the stdlib.

A fresh venv has setuptools without ``wheel`` (3.9-3.11: setuptools < 70.1 cannot build wheels
without it) or no setuptools at all (3.12+), and ``pip install --no-index --no-build-isolation``
may fetch neither. The package is pure Python, so its wheel is a zip of ``provisioner/`` and a
``.dist-info`` made from ``pyproject.toml``: built here, the offline install works in any venv.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import tarfile
import zipfile
from typing import Any, Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "provisioner"


def _setuptools_builds_wheels() -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    version = tuple(int(part) for part in re.findall(r"\d+", setuptools.__version__)[:2])
    if version >= (70, 1):  # bdist_wheel moved into setuptools
        return True
    try:
        import wheel  # noqa: F401
    except ImportError:
        return False
    return True


if _setuptools_builds_wheels():
    from setuptools.build_meta import *  # noqa: F401,F403
else:

    def get_requires_for_build_wheel(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
        return []

    def get_requires_for_build_sdist(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
        return []

    def build_wheel(wheel_directory: str, config_settings: Optional[Dict[str, Any]] = None, metadata_directory: Optional[str] = None) -> str:
        project = _project()
        name, version = project["name"].replace("-", "_"), project["version"]
        dist_info = f"{name}-{version}.dist-info"
        files: List[Tuple[str, bytes]] = []
        for folder, _dirs, names in sorted(os.walk(os.path.join(ROOT, PACKAGE))):
            for file in sorted(names):
                if file.endswith((".py", ".typed")):
                    path = os.path.join(folder, file)
                    with open(path, "rb") as handle:
                        files.append((os.path.relpath(path, ROOT).replace(os.sep, "/"), handle.read()))
        files.append((f"{dist_info}/METADATA", _metadata(project).encode("utf-8")))
        files.append((f"{dist_info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: provisioner-build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"))
        files.append((f"{dist_info}/top_level.txt", f"{PACKAGE}\n".encode()))
        record = "".join(f"{path},sha256={_digest(data)},{len(data)}\n" for path, data in files) + f"{dist_info}/RECORD,,\n"
        files.append((f"{dist_info}/RECORD", record.encode("utf-8")))
        filename = f"{name}-{version}-py3-none-any.whl"
        with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as archive:
            for path, data in files:
                archive.writestr(path, data)
        return filename

    def build_sdist(sdist_directory: str, config_settings: Optional[Dict[str, Any]] = None) -> str:
        project = _project()
        base = f"{project['name'].replace('-', '_')}-{project['version']}"
        with tarfile.open(os.path.join(sdist_directory, f"{base}.tar.gz"), "w:gz") as archive:
            for entry in ("pyproject.toml", "README.md", "_build", PACKAGE):
                archive.add(os.path.join(ROOT, entry), f"{base}/{entry}", filter=lambda info: None if "__pycache__" in info.name else info)
            info = tarfile.TarInfo(f"{base}/PKG-INFO")
            data = _metadata(project).encode("utf-8")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        return f"{base}.tar.gz"


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


def _metadata(project: Dict[str, Any]) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project.get('description', '')}",
        f"Requires-Python: {project.get('requires-python', '')}",
        *[f"Requires-Dist: {requirement}" for requirement in project.get("dependencies", [])],
        *[line for extra, requirements in project.get("optional-dependencies", {}).items() for line in _extra(extra, requirements)],
        *[f"Classifier: {classifier}" for classifier in project.get("classifiers", [])],
        "Description-Content-Type: text/markdown",
    ]
    with open(os.path.join(ROOT, project.get("readme", "README.md")), encoding="utf-8") as handle:
        return "\n".join(lines) + "\n\n" + handle.read()


def _extra(name: str, requirements: List[str]) -> List[str]:
    """``Provides-Extra`` and its requirements, each with ``extra == name`` added to its marker."""
    lines = [f"Provides-Extra: {name}"]
    for requirement in requirements:
        spec, _, marker = requirement.partition(";")
        condition = f'({marker.strip()}) and extra == "{name}"' if marker.strip() else f'extra == "{name}"'
        lines.append(f"Requires-Dist: {spec.strip()}; {condition}")
    return lines


def _project() -> Dict[str, Any]:
    """``[project]`` of pyproject.toml. Below 3.11 there is no tomllib: the one-line ``key = value``
    entries of ``[project]`` and ``[project.optional-dependencies]`` are read as JSON, which the
    strings and string arrays of this file are."""
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as handle:
        text = handle.read()
    try:
        import tomllib
    except ImportError:
        project = _entries(text, "project")
        extras = _entries(text, "project.optional-dependencies")
        return {**project, "optional-dependencies": extras} if extras else project
    return tomllib.loads(text)["project"]


def _entries(text: str, table: str) -> Dict[str, Any]:
    section = re.search(rf"^\[{re.escape(table)}\]\n(.*?)(?=^\[|\Z)", text, re.S | re.M)
    entries = re.findall(r'^([\w-]+) = ((?:".*"|\[.*\]))$', section.group(1) if section else "", re.M)
    return {key: json.loads(value) for key, value in entries}
