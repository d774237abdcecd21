"""``marketflow``: the operator's command-line tool.

Reads the same environment as the services (``MARKETFLOW_STORE``, ``MARKETFLOW_SQLITE_DIR``,
``MARKETFLOW_POSTGRES_URL``, ``MARKETFLOW_NAMESPACE``) and works on their stores directly;
it needs no Kafka (``dlq replay`` excepted: it works on the topics). Safe to run while the
services run: a rebuild swaps its fresh tables in under the projection's position lock, and
the services carry on from the swapped position.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from shared.config import SERVICES, Settings
from shared.projections import Projection, TableDifference
from shared.runtime import Builder, ServiceParts

app = typer.Typer(help="Marketflow operations.", no_args_is_help=True)
projections_app = typer.Typer(help="Read models: list, rebuild from the store, verify.",
                              no_args_is_help=True)
app.add_typer(projections_app, name="projections")
console = Console()

ServiceOption = Annotated[list[str] | None, typer.Option(
    "--service", "-s", help="service(s) to work on; all four when omitted")]
ProjectionOption = Annotated[str | None, typer.Option(
    "--projection", "-p", help="one projection by name, e.g. execution.task_board")]


def _builders() -> dict[str, Builder]:
    # Imported here: ``marketflow --help`` should not load four services.
    from services.execution.wiring import build as execution
    from services.notification.wiring import build as notification
    from services.planning.wiring import build as planning
    from services.reporting.wiring import build as reporting

    return {"planning": planning, "execution": execution, "notification": notification,
            "reporting": reporting}


@contextmanager
def _services(services: list[str] | None) -> Iterator[list[ServiceParts]]:
    chosen = services or list(SERVICES)
    unknown = sorted(set(chosen) - set(SERVICES))
    if unknown:
        raise typer.BadParameter(f"unknown service(s) {', '.join(unknown)}; "
                                 f"choose from {', '.join(SERVICES)}", param_hint="--service")
    builders = _builders()
    parts = [builders[name](Settings.from_env(name)) for name in chosen]
    try:
        yield parts
    finally:
        for part in parts:
            part.application.close()


def _selected(parts: list[ServiceParts], name: str | None) -> list[Projection]:
    found = [view for part in parts for view in part.views
             if name is None or view.name == name]
    if not found:
        known = ", ".join(view.name for part in parts for view in part.views)
        raise typer.BadParameter(f"no projection {name!r}; known: {known}",
                                 param_hint="--projection")
    return found


@contextmanager
def _progress(description: str) -> Iterator[Callable[[int, int], None]]:
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("events"), TimeElapsedColumn(), TextColumn("ETA"),
                  TimeRemainingColumn(), console=console, transient=False) as progress:
        task = progress.add_task(description, total=None)

        def advance(position: int, head: int) -> None:
            progress.update(task, completed=position, total=max(head, 1))

        yield advance
        progress.update(task, total=progress.tasks[0].completed or 1,
                        completed=progress.tasks[0].completed or 1)


@projections_app.command("list")
def list_projections(service: ServiceOption = None) -> None:
    """Each projection's recorded position against the head of its service's log."""
    with _services(service) as parts:
        table = Table("service", "projection", "version", "position", "head", "behind")
        for part in parts:
            head = part.application.max_notification_id()
            for view in part.views:
                view.ensure_open()
                table.add_row(part.application.settings.service, view.name,
                              str(view.version), str(view.position), str(head),
                              str(max(head - view.position, 0)))
        console.print(table)


@projections_app.command()
def rebuild(service: ServiceOption = None, projection: ProjectionOption = None) -> None:
    """Fold the whole store into fresh tables, then swap them in atomically."""
    with _services(service) as parts:
        for view in _selected(parts, projection):
            view.ensure_open()
            with _progress(f"rebuild {view.name}") as advance:
                result = view.rebuild(advance)
            console.print(f"[green]rebuilt[/] {view.name}: {result.applied} events folded, "
                          f"now at position {result.position} ({result.seconds:.1f} s)")


@projections_app.command()
def verify(service: ServiceOption = None, projection: ProjectionOption = None,
           show: Annotated[int, typer.Option(help="differing rows to print per table")] = 10,
           ) -> None:
    """Rebuild into fresh tables and compare them with the live ones row by row.
    Exits 1 if any row differs."""
    total = 0
    with _services(service) as parts:
        for view in _selected(parts, projection):
            view.ensure_open()
            with _progress(f"verify {view.name}") as advance:
                differences = view.verify(advance)
            count = sum(difference.count for difference in differences)
            total += count
            if count == 0:
                console.print(f"[green]{view.name}: 0 differences[/] "
                              f"(position {view.position}, {len(differences)} tables)")
            for difference in differences:
                if difference.count:
                    _print_difference(view.name, difference, show)
    if total:
        console.print(f"[red]{total} differences[/]")
        raise typer.Exit(1)
    console.print("0 differences")


def _print_difference(name: str, difference: TableDifference, show: int) -> None:
    console.print(f"[red]{name}: table {difference.table}: {len(difference.only_live)} rows "
                  f"only live, {len(difference.only_rebuilt)} only rebuilt, "
                  f"{len(difference.changed)} changed[/]")
    for row in difference.only_live[:show]:
        console.print(f"  only live:    {row}")
    for row in difference.only_rebuilt[:show]:
        console.print(f"  only rebuilt: {row}")
    for live, rebuilt in difference.changed[:show]:
        changed = {key: (live[key], rebuilt.get(key)) for key in live
                   if live[key] != rebuilt.get(key)}
        console.print(f"  changed:      {changed} (live, rebuilt)")


# --- audit: the archive's tamper evidence (services/reporting/transparency.py) -----------

audit_app = typer.Typer(help="The archive's Merkle tree: signed tree heads, verification.",
                        no_args_is_help=True)
app.add_typer(audit_app, name="audit")
TreeHeadFile = Annotated[Path | None, typer.Option(
    "--tree-head", help="a signed tree head (JSON, as GET /audit/tree-head answers); the "
    "latest one reporting saved when omitted")]
PublicKeyFile = Annotated[Path | None, typer.Option(
    "--public-key", help="PEM public key to check the signature with; the configured "
    "signing key's when omitted")]


@contextmanager
def _transparency() -> Iterator[Any]:
    from services.reporting.transparency import MerkleView, Transparency

    with _services(["reporting"]) as parts:
        view = next(view for view in parts[0].views if isinstance(view, MerkleView))
        yield Transparency(parts[0].application, view)


@audit_app.command("tree-head")
def audit_tree_head(output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="also write the head to this file")] = None) -> None:
    """Sign, save and print a tree head over everything archived."""
    with _transparency() as transparency:
        head = transparency.publish().as_json()
    text = orjson.dumps(head, option=orjson.OPT_INDENT_2).decode()
    if output is not None:
        output.write_text(text + "\n")
    console.print_json(text)


@audit_app.command("verify")
def audit_verify(tree_head: TreeHeadFile = None, public_key: PublicKeyFile = None) -> None:
    """Recompute the archive's Merkle tree from the stored events and check it against a
    signed tree head; names the first altered, missing or reordered event. Exits 1 if
    anything differs."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from services.reporting.audit_verify import verify_archive
    from services.reporting.transparency import TreeHead

    with _transparency() as transparency:
        if tree_head is not None:
            try:
                head = TreeHead.from_json(orjson.loads(tree_head.read_bytes()))
            except (OSError, ValueError) as error:
                raise typer.BadParameter(str(error), param_hint="--tree-head") from None
        else:
            saved = transparency.latest_saved()
            if saved is None:
                raise typer.BadParameter("no tree head saved yet: run `marketflow audit "
                                         "tree-head` first", param_hint="--tree-head")
            head = saved
        key = (serialization.load_pem_public_key(public_key.read_bytes())
               if public_key is not None else transparency.public_key)
        if not isinstance(key, Ed25519PublicKey):
            raise typer.BadParameter("not an Ed25519 public key", param_hint="--public-key")
        with _progress("audit verify") as advance:
            verdict = verify_archive(transparency.app, transparency.view, head, key,
                                     advance)
    console.print(f"tree head: {head.tree_size} events, root {head.root_hash}, "
                  f"key {head.key_id}; {verdict.leaves} events in the store")
    if not verdict.signature_ok:
        console.print("[red]signature: does not verify with this key[/]")
    for finding in verdict.findings:
        console.print(f"[red]{finding}[/]")
    if not verdict.ok:
        raise typer.Exit(1)
    console.print(f"[green]verified[/]: the store's first {head.tree_size} archived events "
                  "hash to the signed root")


# --- dlq: replay dead letters after a fix (shared/dlq_replay.py) --------------------------

dlq_app = typer.Typer(help="Dead-letter topics: replay their messages after a fix.",
                      no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")


@dlq_app.command("replay")
def dlq_replay(
        producer: Annotated[str, typer.Argument(
            help="whose topic's dead letters: planning, execution, notification, reporting "
                 "or crm (reads <namespace>.<producer>.events.dlq)")],
        dry_run: Annotated[bool, typer.Option(
            "--dry-run", help="only list what would be replayed; send and commit nothing")
        ] = False) -> None:
    """Put dead-lettered messages back on their original topic: same key, body and
    headers, without the dlq_* headers. Reads the dead-letter topic in the consumer group
    <namespace>.dlq-replay and commits its offsets there after the broker acknowledged
    the replayed messages, so a second run replays only what was dead-lettered since (to
    replay again, reset that group's offsets). Consumers drop messages they had already
    applied. Needs Kafka (MARKETFLOW_KAFKA_*), no store; on a secured cluster run it as
    a principal that may read the .dlq topic and the group and write the topic."""
    import asyncio

    from contracts.topics import EXTERNAL_TYPES
    from shared.dlq_replay import DeadLetter, replay, replay_group

    producers = [*SERVICES, *sorted(EXTERNAL_TYPES)]
    if producer not in producers:
        raise typer.BadParameter(f"unknown producer {producer!r}; choose from "
                                 f"{', '.join(producers)}", param_hint="PRODUCER")
    settings = Settings.from_env(SERVICES[0])
    topic = settings.topic(producer)
    table = Table("dlq partition:offset", "original topic", "partition", "offset", "reason",
                  "consumer", "action")
    action = "would replay" if dry_run else "replayed"

    def row(letter: DeadLetter) -> None:
        table.add_row(f"{letter.partition}:{letter.offset}", letter.original_topic,
                      letter.original_partition, letter.original_offset, letter.reason,
                      letter.consumer, action if letter.replayable else "skipped: body dropped")

    try:
        letters = asyncio.run(replay(settings, topic, dry_run=dry_run, on_record=row))
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="PRODUCER") from None
    console.print(table)
    replayable = sum(1 for letter in letters if letter.replayable)
    console.print(f"{topic}.dlq: {len(letters)} dead letters after the committed offsets of "
                  f"group {replay_group(settings)}; {replayable} {action}"
                  + (" (dry run: nothing sent, nothing committed)" if dry_run else ""))


if __name__ == "__main__":
    app()
