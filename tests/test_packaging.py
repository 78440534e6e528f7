"""The installed package is the whole package: a wheel holds every module of the source tree.

An editable install (what `make` does) imports from the tree and hides a subpackage missing from
pyproject.toml; `pip install .` would then lack it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

from helpers import ROOT


def test_the_wheel_holds_every_module_and_static_file(tmp_path):
    source = tmp_path / "source"  # a clean copy: setuptools would reuse a stale build/ folder in the tree
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "assistant", source / "assistant", ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                            "--wheel-dir", str(tmp_path), str(source)], check=True, capture_output=True, text=True,
                           timeout=300)
    assert "absent from the `packages` configuration" not in built.stdout + built.stderr  # the 40-line warning
    wheel = next(tmp_path.glob("assistant-*.whl"))
    packaged = set(zipfile.ZipFile(wheel).namelist())
    package = ROOT / "assistant"
    expected = {p.relative_to(ROOT).as_posix() for p in package.rglob("*")
                if p.is_file() and p.suffix in (".py", ".js", ".css") and "__pycache__" not in p.parts}
    assert expected and expected <= packaged, sorted(expected - packaged)
