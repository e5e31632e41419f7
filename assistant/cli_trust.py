"""`risk-assistant analysts …` and `risk-assistant audit …`: who sees what, and what was answered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Column, Table

from assistant.config import Settings
from assistant.db import Database

if TYPE_CHECKING:
    from assistant.audit import Replay

analysts_app = typer.Typer(help="Analysts and the scopes whose events they may see (row-level security).",
                           no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail: every recorded answer, shown and replayed.", no_args_is_help=True)
REPLAY_DIFFERS = 3  # `audit replay`'s exit code when the evidence or the facts are no longer the same


@contextmanager
def _database() -> Iterator[Database]:
    """The database seen by the admin: every scope (no embedding model loaded)."""
    db = Database.open(Settings())
    try:
        yield db
    finally:
        db.close()


@analysts_app.command("add")
def analysts_add(
    name: Annotated[str, typer.Argument(help="The analyst's name (letters, digits, _ . @ -).")],
    scope: Annotated[list[str], typer.Option("--scope", help="A scope they may see (repeat, or comma-separate; "
                                                              "'*' for every scope).")],
    slack_user: Annotated[str | None, typer.Option(help="Their Slack user id (U…).")] = None,
    ui_login: Annotated[str | None, typer.Option(help="Their login on the web UI.")] = None,
) -> None:
    """Add an analyst, or replace the scopes and mappings of one."""
    from assistant.analysts import Analyst, add_analyst, parse_scopes
    from assistant.cli import _errors, out

    with _errors(), _database() as db:
        add_analyst(db, Analyst(name, parse_scopes(scope), slack_user, ui_login))
        out.print(f"analyst {escape(name)}: scopes {', '.join(parse_scopes(scope))}", highlight=False, soft_wrap=True)


@analysts_app.command("list")
def analysts_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the analysts with their scopes, Slack users and UI logins."""
    from assistant.analysts import list_analysts
    from assistant.cli import _errors, _write, out

    with _errors(), _database() as db:
        found = list_analysts(db)
        if as_json:
            _write(json.dumps([a.__dict__ for a in found], indent=2))
            return
        table = Table("analyst", "scopes", "slack user", "ui login")
        for a in found:
            table.add_row(escape(a.name), escape(", ".join(a.scopes)), escape(a.slack_user or ""),
                          escape(a.ui_login or ""))
        out.print(table)
        if [a.name for a in found] == ["local"]:
            out.print("Only the local analyst exists: everyone is seen through its scopes until you add analysts.")


@analysts_app.command("remove")
def analysts_remove(name: Annotated[str, typer.Argument()]) -> None:
    """Remove an analyst: from then on they see nothing."""
    from assistant.analysts import remove_analyst
    from assistant.cli import _errors, out

    with _errors(), _database() as db:
        removed = remove_analyst(db, name)
        said = "removed" if removed else "did not exist"
        out.print(f"analyst {escape(name)} {said}", highlight=False, soft_wrap=True)


@audit_app.command("list")
def audit_list(
    analyst: Annotated[str | None, typer.Option(help="Only this analyst's answers.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The latest recorded answers, newest first."""
    from assistant.audit import list_answers
    from assistant.cli import _errors, _write, out

    with _errors(), _database() as db:
        rows = list_answers(db, analyst=analyst, limit=limit)
        if as_json:
            _write(json.dumps(rows, indent=2, default=str))
            return
        table = Table("asked at", "analyst", "mode", "matched", "cited", "question")
        table.columns.insert(0, Column("answer id", no_wrap=True, min_width=36))  # copied whole into `audit show`
        for r in rows:
            table.add_row(str(r["id"]), f"{r['asked_at']:%Y-%m-%d %H:%M:%S}", escape(r["analyst"]), r["mode"],
                          f"{r['matched']:,}", str(r["cited"]), escape(r["question"][:80]))
        out.print(table)


@audit_app.command("show")
def audit_show(answer_id: Annotated[str, typer.Argument()]) -> None:
    """One recorded answer in full, as JSON: analyst, scopes, question, plan, evidence, facts, models, timings."""
    from assistant.audit import show_answer
    from assistant.cli import _errors, _write

    with _errors(), _database() as db:
        _write(json.dumps(show_answer(db, answer_id), indent=2, default=str))


@audit_app.command("replay")
def audit_replay(answer_id: Annotated[str, typer.Argument()],
                 as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Re-run a recorded answer's plan as of its date and say whether the evidence and facts are the same,
    and what changed since (exit code 3 when they differ)."""
    from assistant.audit import replay_answer
    from assistant.cli import _assistant, _errors, _write

    with _errors():
        assistant = _assistant()
        try:
            replay = replay_answer(assistant.db, assistant.embedder, assistant.settings, answer_id)
        finally:
            assistant.close()
        if as_json:
            _write(json.dumps(_replay_json(replay), indent=2, default=str))
        else:
            _print_replay(replay)
        if not replay.same:
            raise typer.Exit(REPLAY_DIFFERS)


def _replay_json(replay: Replay) -> dict[str, Any]:
    return {"answer_id": replay.answer_id, "asked_at": replay.asked_at, "same": replay.same,
            **{part: [c.__dict__ for c in getattr(replay, part)] for part in ("evidence", "facts", "causes")}}


def _print_replay(replay: Replay) -> None:
    from assistant.cli import out

    verdict = "the same evidence and facts" if replay.same else "DIFFERENT from the record"
    out.print(f"answer {replay.answer_id} (asked {replay.asked_at:%Y-%m-%d %H:%M}): {verdict}", highlight=False,
              soft_wrap=True)
    for part in ("evidence", "facts", "causes"):
        changes = getattr(replay, part)
        if changes:
            out.print(f"{part}:", highlight=False, soft_wrap=True)
        for c in changes[:20]:
            line = f"  {escape(c.what)}: {escape(str(c.recorded))} → {escape(str(c.replayed))}"
            out.print(line, highlight=False, soft_wrap=True)
        if len(changes) > 20:
            out.print(f"  … and {len(changes) - 20} more (--json for all)", highlight=False, soft_wrap=True)
