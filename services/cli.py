"""``marketflow``: the operator's command-line tool.

Reads the same environment as the services (``MARKETFLOW_STORE``, ``MARKETFLOW_SQLITE_DIR``,
``MARKETFLOW_POSTGRES_URL``, ``MARKETFLOW_NAMESPACE``) and works on their stores directly;
it needs no Kafka. Safe to run while the services run: a rebuild swaps its fresh tables in
under the projection's position lock, and the services carry on from the swapped position.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

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


if __name__ == "__main__":
    app()
