"""The README documents every CLI command, and every command explains itself with --help."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from assistant.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        found.append(path)
        if getattr(command, "commands", None):  # a group (typer vendors its own click): its commands too
            found += _commands(command, path)
    return found


COMMANDS = _commands(typer.main.get_group(app))


def test_the_command_tree_is_read() -> None:
    names = {" ".join(path) for path in COMMANDS}
    assert {"ask", "ingest", "serve", "db status", "eval retrieval"} <= names


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_the_readme_names_the_command(path: tuple[str, ...]) -> None:
    assert f"risk-assistant {' '.join(path)}" in README.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_help_is_not_empty(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    described = [line for line in result.output.splitlines() if line.strip() and "Usage:" not in line]
    assert len(described) >= 2, result.output
