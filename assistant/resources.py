"""Locate files shipped with the package: SQL queries, migrations, prompts, example mappings."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
# In a wheel they sit under assistant/_resources; in a source tree or editable install, at the top.
_SOURCE_DIRS = {
    "queries": "db/queries",
    "migrations": "migrations",
    "prompts": "prompts",
    "mappings": "examples/mappings",
}


def resource_dir(kind: str) -> Path:
    """Directory holding one kind of shipped file."""
    packaged = _PACKAGE / "_resources" / kind
    if packaged.is_dir():
        return packaged
    source = _PACKAGE.parent / _SOURCE_DIRS[kind]
    if source.is_dir():
        return source
    raise FileNotFoundError(f"shipped {kind} not found under {packaged} or {source}: reinstall the package")


@cache
def query(name: str) -> str:
    """Text of the named SQL file in db/queries (without .sql)."""
    return (resource_dir("queries") / f"{name}.sql").read_text(encoding="utf-8")


@cache
def prompt(name: str) -> str:
    """Text of the named prompt template in prompts/ (without .md)."""
    return (resource_dir("prompts") / f"{name}.md").read_text(encoding="utf-8")
