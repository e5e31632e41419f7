"""The `risk-assistant` command: ingest, ask, plan, batch, db, demo, serve, slack, eval (and analysts and
audit from assistant/cli_trust.py). Errors become messages here."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.models import EvidenceEvent, PlanEvent, QueryPlan
from assistant.render.text import clean, to_text

if TYPE_CHECKING:
    from assistant.api import RiskAssistant
    from assistant.evaluate import PlannerScores

app = typer.Typer(help="Risk Assistant: ask questions about risk events, with cited answers.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="The database: status, migrations, the embedded server.", no_args_is_help=True)
app.add_typer(db_app, name="db")
err = Console(stderr=True)
out = Console()

AsOf = Annotated[str | None, typer.Option("--as-of", help="Resolve relative dates as of this day (YYYY-MM-DD).")]


@contextmanager
def _errors() -> Iterator[None]:
    """Turn the core's errors into a message and exit code 1 (traceback only with --debug)."""
    try:
        yield
    except AssistantError as error:
        logging.getLogger(__name__).debug("failed", exc_info=True)
        err.print(f"[red]error:[/red] {escape(str(error))}", markup=True, highlight=False)  # "[...]" is data
        raise typer.Exit(1) from None


def _assistant() -> RiskAssistant:
    from assistant.api import RiskAssistant

    return RiskAssistant.from_env(Settings())


def _write(text: str) -> None:
    """Machine-readable output as it is: Rich would wrap long strings at the terminal's width."""
    sys.stdout.write(text + "\n")


def _as_of(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)", param_hint="--as-of") from None


@contextmanager
def _progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    columns = [TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=err, transient=False) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="A .csv, .jsonl(.gz) or .parquet file of events.")],
    mapping: Annotated[Path | None, typer.Option(help="TOML file mapping columns to fields.")] = None,
    report: Annotated[Path | None, typer.Option(help="Where to write rejected rows (CSV).")] = None,
) -> None:
    """Load events: new ones inserted, changed ones updated and re-embedded, bad rows reported."""
    from assistant import sources
    from assistant.mapping import Mapping

    with _errors():
        chosen = Mapping.load(mapping) if mapping else Mapping.identity(path.stem)
        total = sources.count_rows(path)
        assistant = _assistant()
        with _progress(f"ingesting {path.name}", total) as advance:
            result = assistant.ingest(path, chosen, report_path=report, progress=advance)
        out.print(result.summary(), highlight=False)
        assistant.close()


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question, e.g. \"Q4 2025 card-not-present fraud\".")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as one JSON object.")] = False,
    as_of: AsOf = None,
    analyst: Annotated[str, typer.Option(help="Ask as this analyst: their scopes bound what is read.")] = "local",
) -> None:
    """Answer a question: the plan, then the pattern report with cited event ids (each stage as it is ready)."""
    with _errors():
        assistant = _assistant()
        stream = assistant.ask_stream(question, as_of=_as_of(as_of), analyst=analyst)
        for event in stream:
            if as_json:
                continue
            if isinstance(event, PlanEvent):
                out.print(f"[bold]Plan[/bold]: {escape(clean(_plan_line(event.plan)))}", highlight=False,
                          soft_wrap=True)
            elif isinstance(event, EvidenceEvent):
                err.print(f"{event.matched:,} events match; reading the {event.evidence:,} best-ranked…",
                          highlight=False)
        answer = stream.answer()
        if as_json:
            _write(answer.model_dump_json(indent=2))
        else:
            out.print(to_text(answer), markup=False, highlight=False, soft_wrap=True)
            timings = ", ".join(f"{stage} {ms:,.0f} ms" for stage, ms in answer.timings.items())
            out.print(f"\nmode: {answer.mode} · answer {answer.id} · {timings}", highlight=False, soft_wrap=True)
        assistant.close()


@app.command()
def plan(question: Annotated[str, typer.Argument()],
         as_json: Annotated[bool, typer.Option("--json")] = False, as_of: AsOf = None) -> None:
    """Show the plan a question would run, without running it."""
    with _errors():
        assistant = _assistant()
        result = assistant.plan(question, as_of=_as_of(as_of))
        if as_json:
            _write(result.model_dump_json(indent=2))
        else:
            out.print(clean(_plan_line(result)), markup=False, highlight=False, soft_wrap=True)
        assistant.close()


@app.command()
def batch(
    source: Annotated[Path, typer.Argument(help="Questions: a .csv, .jsonl or .parquet file.")],
    output: Annotated[Path, typer.Option("--output", "-o",
                                         help="Answers: .csv, .jsonl or .parquet; resumed if it exists.")],
    concurrency: Annotated[int, typer.Option(help="Questions answered at once.")] = 4,
    question_column: Annotated[str, typer.Option(help="The column holding the questions.")] = "question",
    id_column: Annotated[str | None, typer.Option(help="The column keying each row (default: id when the "
                                                       "file has one, else the row number).")] = None,
    input_format: Annotated[str | None, typer.Option(help="csv, jsonl or parquet (default: from the name).")] = None,
    output_format: Annotated[str | None, typer.Option(help="csv, jsonl or parquet (default: from the name).")] = None,
    as_of: AsOf = None,
    analyst: Annotated[str, typer.Option(help="Ask as this analyst: their scopes bound what is read.")] = "local",
) -> None:
    """Answer every question of a file into OUT, one row per id; a re-run asks only the ids not yet in OUT."""
    from assistant.batch import open_file_job, run_file_job

    with _errors():
        job = open_file_job(source, output, in_format=input_format, out_format=output_format,
                            question_column=question_column, id_column=id_column, as_of=_as_of(as_of))
        assistant = _assistant()
        try:
            with _progress(f"answering {source.name}", len(job.pending)) as advance:
                summary = run_file_job(assistant, job, concurrency=concurrency, analyst=analyst, progress=advance)
        finally:
            assistant.close()
        for key, error in summary.errors[:10]:
            err.print(f"{key}: {error}", markup=False, highlight=False)
        out.print(summary.summary(), markup=False, highlight=False)


@app.command()
def demo() -> None:
    """Load the bundled synthetic demo events (idempotent)."""
    from assistant.demo import DEMO_SIZE

    with _errors():
        assistant = _assistant()
        with _progress("loading demo events", DEMO_SIZE) as advance:
            result = assistant.load_demo(progress=advance)
        out.print(result.summary(), highlight=False)
        assistant.close()


@app.command()
def serve() -> None:
    """Serve the chat UI (loads the demo events first if the database is empty)."""
    from assistant.demo import DEMO_SIZE
    from assistant.ui.app import serve as serve_ui

    with _errors():
        assistant = _assistant()
        if assistant.count_events() == 0:
            err.print("The database is empty: loading the bundled demo events first.")
            with _progress("loading demo events", DEMO_SIZE) as advance:
                err.print(assistant.load_demo(progress=advance).summary(), highlight=False)
        s = assistant.settings
        err.print(f"Serving on http://{s.ui_host}:{s.ui_port} (mode: {assistant.mode})")
        serve_ui(assistant)


@app.command()
def slack(
    mode: Annotated[str, typer.Option(help="socket (Socket Mode, no public URL) or http (Slack posts to "
                                           "/slack/events).")] = "socket",
    port: Annotated[int | None, typer.Option(help="HTTP mode: the port (default RISK_SLACK_PORT, 3000).")] = None,
    host: Annotated[str | None, typer.Option(help="HTTP mode: the address (default RISK_SLACK_HOST).")] = None,
) -> None:
    """Run the Slack bot: it answers mentions and direct messages in threads, and /risk privately."""
    from assistant.slack.serve import SlackMode, require_tokens, run_bot

    if mode not in ("socket", "http"):
        raise typer.BadParameter(f"{mode!r} is not a mode: use socket or http", param_hint="--mode")
    chosen: SlackMode = "socket" if mode == "socket" else "http"
    settings = Settings()
    with _errors():
        tokens = require_tokens(settings, chosen)
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        address, number = host or settings.slack_host, settings.slack_port if port is None else port
        assistant = _assistant()
        where = "over Socket Mode" if chosen == "socket" else f"on http://{address}:{number}/slack/events"
        err.print(f"Slack bot running {where} (mode: {assistant.mode})", highlight=False)
        try:
            run_bot(assistant, tokens, chosen, host=address, port=number)
        finally:
            assistant.close()


@db_app.command("status")
def db_status() -> None:
    """Where the database is, whether it runs, which migrations are applied."""
    from assistant import dbadmin

    with _errors():
        _write(json.dumps(dbadmin.status(Settings()), indent=2, default=str))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations."""
    from assistant import dbadmin

    with _errors():
        applied = dbadmin.upgrade(Settings())
        out.print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")


@db_app.command("index")
def db_index(force: Annotated[bool, typer.Option(help="Rebuild it even if it is current.")] = False) -> None:
    """Build the embedding model's vector index now, if it needs one (ingestion and start-up also do)."""
    from assistant import dbadmin

    with _errors():
        built = dbadmin.index(Settings(), force=force)
        if built is None:
            out.print("the vector index is current (or there are too few vectors to need one: searches are exact)")
        else:
            out.print(f"built {built.name}: {built.lists} lists over {built.rows:,} vectors in {built.seconds:.1f} s")


@db_app.command("stop")
def db_stop(force: Annotated[bool, typer.Option(help="Stop even while other processes use it.")] = False) -> None:
    """Stop the embedded server."""
    from assistant import dbadmin

    with _errors():
        stopped = dbadmin.stop(Settings(), force=force)
        out.print("stopped" if stopped else "the embedded server was not running")


def _plan_line(plan: QueryPlan) -> str:
    filters = "; ".join(map(str, plan.filters)) or "no filters"
    like = f" · like {plan.like.kind} {plan.like.value}" if plan.like else ""
    suggested = "; ".join(f"{r.filter} ({r.how})" for r in plan.suggestions)
    suggestions = f" · suggested, not applied: {suggested}" if suggested else ""
    return f"{filters} · query “{plan.query}”{like} · as of {plan.as_of}{suggestions}"


eval_app = typer.Typer(help="Score the planner and retrieval against labelled data.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


@eval_app.command("planner")
def eval_planner(
    path: Annotated[Path, typer.Argument(help="JSON Lines: {question, as_of, expected: [{field, op, value}]}.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as one JSON object.")] = False,
    min_precision: Annotated[float, typer.Option(help="Exit 1 when overall precision is below this.")] = 0.0,
    min_recall: Annotated[float, typer.Option(help="Exit 1 when overall recall is below this.")] = 0.0,
    answers: Annotated[bool, typer.Option(help="Also answer each question: event precision, empty answers.")] = True,
) -> None:
    """Plan each labelled question; filter-level precision, recall and exact-match rate; with answers,
    the share of listed events that satisfy the labelled filters and the share of empty answers."""
    from assistant.evaluate import evaluate_planner, load_cases

    with _errors():
        cases = load_cases(path)
        assistant = _assistant()
        scores = evaluate_planner(assistant, cases, answers=answers)
        assistant.close()
        _print_planner_scores(path, scores, as_json)
    below = [f"{name} {value:.3f} < {floor:.3f}" for name, value, floor in
             [("precision", scores.total.precision, min_precision), ("recall", scores.total.recall, min_recall)]
             if value < floor]
    if below:
        err.print(f"planner evaluation below its floor: {'; '.join(below)}", highlight=False)
        raise typer.Exit(1)


def _print_planner_scores(path: Path, scores: PlannerScores, as_json: bool) -> None:
    if as_json:
        _write(json.dumps(scores.to_dict(), indent=2))
        return
    from rich.table import Table

    table = Table("field", "expected", "planned", "matched", "precision", "recall", title=str(path))
    for name, c in [*sorted(scores.by_field.items()), ("all", scores.total)]:
        table.add_row(name, str(c.expected), str(c.planned), str(c.matched), f"{c.precision:.3f}",
                      f"{c.recall:.3f}")
    out.print(table)
    out.print(f"exact plans: {scores.exact}/{scores.cases} ({scores.exact_rate:.3f})", highlight=False)
    if scores.answered or scores.empty:
        out.print(f"event precision: {scores.event_precision:.3f} over {scores.answered} answers; "
                  f"empty answers: {len(scores.empty)}/{scores.cases} ({scores.empty_share:.3f})", highlight=False)
    for failure in scores.failures:
        out.print(f"- {failure.question!r} (as of {failure.as_of}): missing {failure.missing or '-'}; "
                  f"extra {failure.extra or '-'}", markup=False, highlight=False)


@eval_app.command("retrieval")
def eval_retrieval(
    directory: Annotated[Path, typer.Argument(help="BEIR directory: corpus.jsonl, queries.jsonl, qrels/test.tsv.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as one JSON object.")] = False,
) -> None:
    """Load a BEIR corpus (source beir:<dir name>) and score dense, keyword and hybrid retrieval on it."""
    from dataclasses import asdict

    from assistant.evaluate import evaluate_retrieval
    from assistant.retrieve import Fusion

    with _errors():
        assistant = _assistant()
        scores = evaluate_retrieval(assistant.db, assistant.embedder, directory,
                                    fusion=Fusion.from_settings(assistant.settings))
        assistant.close()
        if as_json:
            _write(json.dumps({m: asdict(s) for m, s in scores.items()}, indent=2))
            return
        from rich.table import Table

        table = Table("mode", "queries", "nDCG@10", "recall@100", title=str(directory))
        for s in scores.values():
            table.add_row(s.mode, str(s.queries), f"{s.ndcg_at_10:.3f}", f"{s.recall_at_100:.3f}")
        out.print(table)


def _register_trust_commands() -> None:
    """`analysts` and `audit` live in assistant/cli_trust.py (this module stays one job: the core commands)."""
    from assistant.cli_trust import analysts_app, audit_app

    app.add_typer(analysts_app, name="analysts")
    app.add_typer(audit_app, name="audit")


_register_trust_commands()
