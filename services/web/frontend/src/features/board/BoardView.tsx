import {
  DndContext,
  KeyboardSensor,
  PointerSensor,
  useDraggable,
  useDroppable,
  useSensor,
  useSensors,
  type DragEndEvent,
  type DragStartEvent,
} from "@dnd-kit/core";
import { useState } from "react";
import { Link } from "react-router";
import type { Board, TaskState, TaskSummary } from "../../api/types";
import { formatDate } from "../../components/dates";
import { ProblemAlert } from "../../components/ProblemAlert";
import { SlaBadge } from "../../components/SlaBadge";
import { stateLabel } from "../../components/StateLabel";
import { COLUMNS, legalTargets, moveFor, type Command, type Move } from "./moves";

export type RunCommand = (command: Command, task: TaskSummary, text: string) => Promise<unknown>;

interface PendingMove {
  task: TaskSummary;
  to: TaskState;
  move: Move;
}

/** The board's columns by state; cards move by drag and drop or by their "Move to" menu. */
export function BoardView({
  board,
  campaignId,
  run,
}: {
  board: Board;
  campaignId: string;
  run: RunCommand;
}) {
  const [dragging, setDragging] = useState<TaskSummary | null>(null);
  const [pending, setPending] = useState<PendingMove | null>(null);
  const [text, setText] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [announcement, setAnnouncement] = useState("");
  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 6 } }),
    useSensor(KeyboardSensor),
  );
  const tasks = new Map<string, TaskSummary>();
  for (const state of COLUMNS) for (const task of board.columns[state]) tasks.set(task.id, task);

  async function execute(task: TaskSummary, move: Move, to: TaskState, given: string) {
    setBusy(true);
    setError(null);
    try {
      await run(move.command, task, given);
      setPending(null);
      setText("");
      setAnnouncement(`${task.title}: ${move.label.toLowerCase()} done.`);
    } catch (caught) {
      setError(caught);
      setAnnouncement(`${task.title} was not moved to ${stateLabel(to)}.`);
    } finally {
      setBusy(false);
    }
  }

  function request(task: TaskSummary, to: TaskState) {
    setError(null);
    const move = moveFor(task.status, to);
    if (!move) {
      setPending(null);
      setError({
        title: "Not a legal move",
        status: 0,
        detail: `No command moves a task from ${stateLabel(task.status)} to ${stateLabel(to)}.`,
      });
      return;
    }
    if (move.needs) {
      setPending({ task, to, move });
      setText("");
    } else {
      void execute(task, move, to, "");
    }
  }

  function onDragStart(event: DragStartEvent) {
    setDragging(tasks.get(String(event.active.id)) ?? null);
  }

  function onDragEnd(event: DragEndEvent) {
    setDragging(null);
    const task = tasks.get(String(event.active.id));
    const to = event.over?.id as TaskState | undefined;
    if (task && to && to !== task.status) request(task, to);
  }

  const targets = dragging ? new Set(legalTargets(dragging.status)) : null;
  return (
    <div className="board">
      <p className="sr-only" aria-live="polite">
        {announcement}
      </p>
      {error ? <ProblemAlert error={error} onDismiss={() => setError(null)} /> : null}
      {pending ? (
        <form
          className="card move-form"
          aria-label={`${pending.move.label}: ${pending.task.title}`}
          onSubmit={(event) => {
            event.preventDefault();
            void execute(pending.task, pending.move, pending.to, text);
          }}
        >
          <label htmlFor="move-text">
            {pending.move.label} “{pending.task.title}”:{" "}
            {pending.move.needs === "reference"
              ? "reference of the submission (a link or document id)"
              : pending.move.needs === "comment"
                ? "what should change"
                : "reason"}
          </label>
          <input id="move-text" value={text} onChange={(event) => setText(event.target.value)} autoFocus />
          <div className="row">
            <button type="submit" className="primary" disabled={busy}>
              {pending.move.label}
            </button>
            <button type="button" onClick={() => setPending(null)}>
              Cancel
            </button>
          </div>
        </form>
      ) : null}
      <DndContext sensors={sensors} onDragStart={onDragStart} onDragEnd={onDragEnd} onDragCancel={() => setDragging(null)}>
        <div className="columns">
          {COLUMNS.map((state) => (
            <Column
              key={state}
              state={state}
              tasks={board.columns[state]}
              count={board.counts[state]}
              highlight={targets ? targets.has(state) : null}
              campaignId={campaignId}
              onMove={request}
              busy={busy}
            />
          ))}
        </div>
      </DndContext>
    </div>
  );
}

function Column({
  state,
  tasks,
  count,
  highlight,
  campaignId,
  onMove,
  busy,
}: {
  state: TaskState;
  tasks: TaskSummary[];
  count: number;
  highlight: boolean | null;
  campaignId: string;
  onMove: (task: TaskSummary, to: TaskState) => void;
  busy: boolean;
}) {
  const { setNodeRef, isOver } = useDroppable({ id: state });
  const className = [
    "column",
    highlight === true ? "legal" : "",
    highlight === false ? "illegal" : "",
    isOver ? "over" : "",
  ].join(" ");
  return (
    <section ref={setNodeRef} className={className} aria-labelledby={`col-${state}`} data-state={state}>
      <h2 id={`col-${state}`}>
        {stateLabel(state)} <span className="count">{count}</span>
      </h2>
      <ul>
        {tasks.map((task) => (
          <Card key={task.id} task={task} campaignId={campaignId} onMove={onMove} busy={busy} />
        ))}
      </ul>
    </section>
  );
}

function Card({
  task,
  campaignId,
  onMove,
  busy,
}: {
  task: TaskSummary;
  campaignId: string;
  onMove: (task: TaskSummary, to: TaskState) => void;
  busy: boolean;
}) {
  const { attributes, listeners, setNodeRef, transform, isDragging } = useDraggable({ id: task.id });
  const style = transform ? { transform: `translate(${transform.x}px, ${transform.y}px)` } : undefined;
  const targets = legalTargets(task.status);
  return (
    <li ref={setNodeRef} style={style} className={`task-card${isDragging ? " dragging" : ""}`}>
      <div className="drag-handle" {...listeners} {...attributes} aria-label={`Drag ${task.title}`}>
        <span aria-hidden="true">⠿</span>
      </div>
      <div className="card-body">
        <Link to={`/campaigns/${campaignId}/board/tasks/${task.id}`}>{task.title}</Link>
        <div className="muted">
          {task.assignee_id ?? `queue ${task.queue}`} · due {formatDate(task.due_date)}
        </div>
        <SlaBadge sla={task.sla} />
        {targets.length ? (
          <select
            aria-label={`Move ${task.title} to`}
            value=""
            disabled={busy}
            onChange={(event) => {
              if (event.target.value) onMove(task, event.target.value as TaskState);
            }}
          >
            <option value="">Move to…</option>
            {targets.map((to) => (
              <option key={to} value={to}>
                {stateLabel(to)}
              </option>
            ))}
          </select>
        ) : null}
      </div>
    </li>
  );
}
