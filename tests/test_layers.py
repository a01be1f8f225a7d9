"""The house's layers hold: import-linter's contracts (pyproject.toml) pass on the code, and fail
on code that breaks them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("flows", "expectations", "warehouse", "transforms")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"})


def test_the_import_contracts_are_kept():
    proc = lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Contracts: 2 kept, 0 broken." in proc.stdout


def copy_of_the_house(tmp_path: Path) -> Path:
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    shutil.copyfile(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_an_arrow_back_up_breaks_the_layers(tmp_path):
    root = copy_of_the_house(tmp_path)
    with (root / "transforms" / "ids.py").open("a") as f:
        f.write("\nfrom warehouse import connection  # noqa: E402,F401\n")
    proc = lint_imports(root)
    assert proc.returncode != 0 and "transforms.ids -> warehouse.connection" in proc.stdout


def test_a_declaration_that_imports_a_transform_breaks_its_contract(tmp_path):
    root = copy_of_the_house(tmp_path)
    with (root / "transforms" / "vocab.py").open("a") as f:
        f.write("\nfrom transforms import ids  # noqa: E402,F401\n")
    proc = lint_imports(root)
    assert proc.returncode != 0 and "the declarations import nothing of ours BROKEN" in proc.stdout
