import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { execution, unwrap } from "../../api/client";
import { formatDate } from "../../components/dates";
import { QueryState } from "../../components/Loading";
import { ProblemAlert } from "../../components/ProblemAlert";
import { campaignLinks, useCampaign } from "../campaigns/queries";
import { BoardView, type RunCommand } from "./BoardView";
import { runCommand } from "./commands";
import { TaskDetailPanel } from "./TaskDetail";

export default function CampaignBoard() {
  const { campaignId = "", taskId } = useParams();
  const queryClient = useQueryClient();
  const board = useQuery({
    queryKey: ["execution", "board", campaignId],
    queryFn: () =>
      unwrap(execution.GET("/campaigns/{campaign_id}/board", { params: { path: { campaign_id: campaignId } } })),
  });
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
        <QueryState what="the board" isPending={board.isPending} error={board.error}>
          {board.data ? <BoardView board={board.data} campaignId={campaignId} run={run} /> : null}
        </QueryState>
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
