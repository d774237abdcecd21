import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { allPages, planning, unwrap } from "../../api/client";
import type { Playbook } from "../../api/types";
import { formatDateTime } from "../../components/dates";
import { QueryState } from "../../components/Loading";
import { canDefinePlaybooks, canPlan } from "../auth/roles";
import { useSignedInMember } from "../auth/session";
import { PlanCampaignForm } from "./PlanCampaignForm";
import { PlaybookDiffView } from "./PlaybookDiffView";
import { ImportPlaybook } from "./PlaybookList";
import { RaciMatrix } from "./RaciMatrix";
import { dateRuleText, playbookTasks } from "./raci";

export default function PlaybookView() {
  const { playbookId = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const version = Number(params.get("version")) || undefined;
  const me = useSignedInMember();
  const playbook = useQuery({
    queryKey: ["planning", "playbook", playbookId, version ?? "latest"],
    queryFn: () =>
      unwrap(
        planning.GET("/playbooks/{playbook_id}", {
          params: { path: { playbook_id: playbookId }, query: version ? { version } : {} },
        }),
      ),
  });
  const data = playbook.data;
  return (
    <div className="playbook">
      <p>
        <Link to="/playbooks">← All playbooks</Link>
      </p>
      <QueryState what="the playbook" isPending={playbook.isPending} error={playbook.error}>
        {data ? (
          <>
            <h1>
              {data.name} <span className="muted">version {data.version} of {data.latest_version}</span>
            </h1>
            {data.description ? <p>{data.description}</p> : null}
            <p className="muted">
              Defined by {data.defined_by} on {formatDateTime(data.defined_at)}; last revised by {data.revised_by} on{" "}
              {formatDateTime(data.revised_at)}
            </p>
            <div className="row">
              <label htmlFor="playbook-version">Show version</label>
              <select
                id="playbook-version"
                value={data.version}
                onChange={(event) => setParams({ version: event.target.value }, { replace: true })}
              >
                {versions(data.latest_version).map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
              <a
                className="button"
                href={`/api/planning/playbooks/${data.id}/export?version=${data.version}`}
                download={`${slug(data.name)}-v${data.version}.yaml`}
              >
                Export version {data.version} (YAML)
              </a>
            </div>
            <PlaybookBody playbook={data} />
            <div className="grid-2">
              <Versions playbook={data} />
              {canDefinePlaybooks(me) ? (
                <ImportPlaybook revise={{ playbookId: data.id, expectedVersion: data.latest_version }} />
              ) : null}
            </div>
            {canPlan(me) ? <PlanSection playbook={data} /> : null}
          </>
        ) : null}
      </QueryState>
    </div>
  );
}

const versions = (latest: number) => Array.from({ length: latest }, (_, i) => latest - i);
const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "playbook";

function PlaybookBody({ playbook }: { playbook: Playbook }) {
  const tasks = playbookTasks(playbook);
  const phases = playbook.phases.length ? playbook.phases : [{ key: "tasks", title: "Tasks", tasks }];
  return (
    <>
      <section aria-labelledby="phases-heading">
        <h2 id="phases-heading">Phases and tasks</h2>
        {phases.map((phase) => (
          <div key={phase.key} className="table-scroll">
            <table>
              <caption>{phase.title}</caption>
              <thead>
                <tr>
                  <th scope="col">Task</th>
                  <th scope="col">Role (R)</th>
                  <th scope="col">Working days</th>
                  <th scope="col">Date rule</th>
                  <th scope="col">Depends on</th>
                  <th scope="col">Approval chain</th>
                </tr>
              </thead>
              <tbody>
                {phase.tasks.map((task) => (
                  <tr key={task.key}>
                    <th scope="row">
                      {task.title} <span className="muted">({task.key})</span>
                    </th>
                    <td>{task.role}</td>
                    <td>{task.duration_days === 0 ? "milestone" : (task.duration_days ?? 1)}</td>
                    <td>{dateRuleText(task)}</td>
                    <td>{task.depends_on?.length ? task.depends_on.join(", ") : "—"}</td>
                    <td>
                      {task.approval_chain?.length
                        ? task.approval_chain
                            .map((step) => `${step.role}${(step.required_approvals ?? 1) > 1 ? ` ×${step.required_approvals}` : ""}`)
                            .join(" → ")
                        : "—"}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      </section>
      <section aria-labelledby="raci-heading">
        <h2 id="raci-heading">Responsibilities</h2>
        <RaciMatrix roles={playbook.roles} tasks={tasks} />
      </section>
    </>
  );
}

function Versions({ playbook }: { playbook: Playbook }) {
  const latest = playbook.latest_version;
  const [from, setFrom] = useState(Math.max(1, latest - 1));
  const [to, setTo] = useState(latest);
  const diff = useQuery({
    queryKey: ["planning", "playbook-diff", playbook.id, from, to],
    queryFn: () =>
      unwrap(planning.GET("/playbooks/{playbook_id}/diff", { params: { path: { playbook_id: playbook.id }, query: { from, to } } })),
    enabled: latest > 1 && from !== to,
  });
  return (
    <section className="card" aria-labelledby="versions-heading">
      <h2 id="versions-heading">Versions</h2>
      {latest < 2 ? (
        <p className="empty">Only one version so far: import a new version to compare.</p>
      ) : (
        <>
          <div className="filters">
            <label>
              Compare version
              <select value={from} onChange={(event) => setFrom(Number(event.target.value))}>
                {versions(latest).map((n) => (
                  <option key={n} value={n}>{n}</option>
                ))}
              </select>
            </label>
            <label>
              with version
              <select value={to} onChange={(event) => setTo(Number(event.target.value))}>
                {versions(latest).map((n) => (
                  <option key={n} value={n}>{n}</option>
                ))}
              </select>
            </label>
          </div>
          {from === to ? (
            <p className="empty">Pick two different versions.</p>
          ) : (
            <QueryState what="the differences" isPending={diff.isPending} error={diff.error}>
              {diff.data ? <PlaybookDiffView diff={diff.data} /> : null}
            </QueryState>
          )}
        </>
      )}
    </section>
  );
}

function PlanSection({ playbook }: { playbook: Playbook }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const options = useQuery({
    queryKey: ["planning", "plan-options"],
    queryFn: async () => {
      const page = <T,>(fetch: (cursor?: string) => Promise<{ data?: T[]; error?: unknown; response: Response }>) => allPages(fetch);
      const [teams, goals, members] = await Promise.all([
        page((cursor) => planning.GET("/teams", { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } })),
        page((cursor) => planning.GET("/goals", { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } })),
        page((cursor) => planning.GET("/members", { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } })),
      ]);
      return { teams, goals, members };
    },
  });
  const roles = playbook.roles.length ? playbook.roles : [...new Set(playbookTasks(playbook).map((task) => task.role))];
  return (
    <section className="card plan" aria-label="Plan a campaign">
      <QueryState what="teams, goals and members" isPending={options.isPending} error={options.error}>
        {options.data ? (
          <PlanCampaignForm
            options={{ playbookId: playbook.id, playbookVersion: playbook.version, roles, ...options.data }}
            plan={(body) => unwrap(planning.POST("/campaigns", { body }))}
            onPlanned={async (campaign) => {
              await queryClient.invalidateQueries({ queryKey: ["planning", "campaigns"] });
              navigate(`/campaigns/${campaign.id}/board`, { state: { planned: true } });
            }}
          />
        ) : null}
      </QueryState>
    </section>
  );
}
