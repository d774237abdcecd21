import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useLocation, useParams } from "react-router";
import { execution, unwrap } from "../../api/client";
import { ApiError } from "../../api/problem";
import { formatDate } from "../../components/dates";
import { QueryState } from "../../components/Loading";
import { ProblemAlert } from "../../components/ProblemAlert";
import { campaignLinks, useCampaign } from "../campaigns/queries";
import { BoardView, type RunCommand } from "./BoardView";
import { runCommand } from "./commands";
import { TaskDetailPanel } from "./TaskDetail";

/** How often, and how many times, to look again for a campaign execution has not opened yet. */
export const SETUP_POLL_MS = 500;
export const SETUP_POLLS = 60;

/** Execution's 404 for a campaign whose tasks it has not opened yet (it hears of new
 * campaigns from planning over Kafka, a moment after planning answered). */
export const notOpenedYet = (error: unknown) =>
  error instanceof ApiError && error.status === 404 && /has no task of it/.test(error.problem.detail ?? "");

/** Whether the page was reached from the plan form (navigate(..., { state: { planned: true } })). */
function justPlanned(state: unknown): boolean {
  return typeof state === "object" && state !== null && (state as { planned?: unknown }).planned === true;
}

export default function CampaignBoard() {
  const { campaignId = "", taskId } = useParams();
  const location = useLocation();
  const queryClient = useQueryClient();
  // Just planned: wait until execution lists a task of the campaign (a filtered list, never
  // a 404) before asking for the board, so the board does not fail while it is set up.
  const planned = justPlanned(location.state);
  const opened = useQuery({
    queryKey: ["execution", "opened", campaignId],
    queryFn: async () =>
      (await unwrap(execution.GET("/tasks", { params: { query: { campaign_id: campaignId, limit: 1 } } }))).length > 0,
    enabled: planned,
    refetchInterval: (query) => (query.state.data || query.state.dataUpdateCount >= SETUP_POLLS ? false : SETUP_POLL_MS),
  });
  const polls = queryClient.getQueryState(["execution", "opened", campaignId])?.dataUpdateCount ?? 0;
  const settingUp = planned && !opened.error && opened.data !== true && polls < SETUP_POLLS;
  const board = useQuery({
    queryKey: ["execution", "board", campaignId],
    queryFn: () =>
      unwrap(execution.GET("/campaigns/{campaign_id}/board", { params: { path: { campaign_id: campaignId } } })),
    enabled: !settingUp,
    // Reached another way (a link) before execution has the campaign: ask again a while.
    retry: (count, error) => (notOpenedYet(error) ? count < 20 : !(error instanceof ApiError && error.status >= 400 && error.status < 500) && count < 2),
    retryDelay: (count) => Math.min(SETUP_POLL_MS * 2 ** count, 2_000),
  });
  const waiting = settingUp || (board.isPending && notOpenedYet(board.failureReason));
  const campaign = useCampaign(campaignId);
  const name = campaign.data?.name;
  const run: RunCommand = async (command, task, text) => {
    try {
      return await runCommand(command, task.id, task.version, text);
    } finally {
      await queryClient.invalidateQueries({ queryKey: ["execution"] });
    }
  };
  return (
    <div className="board-page">
      <h1>{name ? `${name}: board` : "Campaign board"}</h1>
      <p className="muted">
        {campaign.data ? (
          <>
            Launch {formatDate(campaign.data.launch_date)} · {campaign.data.status} ·{" "}
            <Link to={campaignLinks(campaignId).timeline}>Timeline</Link> ·{" "}
            <Link to={campaignLinks(campaignId).audit}>Audit</Link> ·{" "}
          </>
        ) : null}
        drag a card (or use its “Move to” menu) to the next state
      </p>
      {campaign.error ? <ProblemAlert error={campaign.error} /> : null}
      <div className={taskId ? "board-with-detail" : undefined}>
        {waiting ? (
          <p className="loading" role="status" aria-live="polite">
            Setting up the campaign…
          </p>
        ) : (
          <QueryState what="the board" isPending={board.isPending} error={board.error}>
            {board.data ? <BoardView board={board.data} campaignId={campaignId} run={run} /> : null}
          </QueryState>
        )}
        {taskId ? (
          <aside className="card task-detail" aria-label="Task detail">
            <Link to={`/campaigns/${campaignId}/board`} className="close">
              Close detail
            </Link>
            <TaskDetailPanel taskId={taskId} />
          </aside>
        ) : null}
      </div>
    </div>
  );
}
