"""SQL, migrations, prompts and mappings are found from the source tree and from a built wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from assistant.resources import resource_dir

ROOT = Path(__file__).resolve().parents[1]
KINDS = {"queries": "db/queries", "migrations": "migrations", "prompts": "prompts",
         "mappings": "examples/mappings"}


def test_resources_from_the_editable_install() -> None:
    for kind, folder in KINDS.items():
        assert resource_dir(kind) == ROOT / folder
        assert any(resource_dir(kind).iterdir())


@pytest.mark.slow
def test_resources_from_a_built_wheel(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path), str(ROOT)], check=True)
    wheel = next(tmp_path.glob("risk_assistant-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for kind, folder in KINDS.items():
        for path in (ROOT / folder).iterdir():
            assert f"assistant/_resources/{kind}/{path.name}" in names
    assert "assistant/data/demo_events.jsonl.gz" in names
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True)
    probe = ("import assistant, assistant.resources as r; "
             "print(assistant.__file__); print(r.resource_dir('migrations')); "
             "print(len(r.query('upsert_events')) > 0)")
    out = subprocess.run([sys.executable, "-c", probe], env={"PYTHONPATH": str(target)}, cwd=tmp_path,
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[0].startswith(str(target)) and out[1].startswith(str(target)) and out[2] == "True"
