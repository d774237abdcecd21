import { useQuery } from "@tanstack/react-query";
import { Navigate, useParams } from "react-router";
import { execution, unwrap } from "../../api/client";
import { QueryState } from "../../components/Loading";

/** The board card of a task: the route e-mails and webhooks link to (`/tasks/:taskId`). */
export function TaskRedirect() {
  const { taskId = "" } = useParams();
  const task = useQuery({
    queryKey: ["execution", "task", taskId],
    queryFn: () => unwrap(execution.GET("/tasks/{task_id}", { params: { path: { task_id: taskId } } })),
  });
  return (
    <section aria-labelledby="task-link-heading">
      <h1 id="task-link-heading">Task</h1>
      <QueryState what="the task" isPending={task.isPending} error={task.error}>
        {task.data ? (
          <Navigate replace to={`/campaigns/${task.data.campaign_id}/board/tasks/${task.data.id}`} />
        ) : null}
      </QueryState>
    </section>
  );
}

/** A campaign's board: the route e-mails and webhooks link to (`/campaigns/:campaignId`). */
export function CampaignRedirect() {
  const { campaignId = "" } = useParams();
  return <Navigate replace to={`/campaigns/${campaignId}/board`} />;
}
