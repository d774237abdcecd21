import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { ifMatch, planning, unwrap } from "../../api/client";
import type { Campaign } from "../../api/types";
import { formatDate } from "../../components/dates";
import { QueryState } from "../../components/Loading";
import { ProblemAlert } from "../../components/ProblemAlert";
import { canPlan } from "../auth/roles";
import { useSignedInMember } from "../auth/session";
import { campaignLinks, useCampaign } from "../campaigns/queries";
import { fieldErrors } from "../playbooks/PlanCampaignForm";
import { movedTasks, timelineRows } from "./layout";
import { TimelineChart } from "./TimelineChart";

export default function CampaignTimeline() {
  const { campaignId = "" } = useParams();
  const me = useSignedInMember();
  const campaign = useCampaign(campaignId);
  const links = campaignLinks(campaignId);
  return (
    <div className="campaign-timeline">
      <h1>{campaign.data ? `${campaign.data.name}: timeline` : "Campaign timeline"}</h1>
      <p className="row">
        <Link to={links.board}>Board</Link>
        <Link to={links.audit}>Audit</Link>
      </p>
      <QueryState what="the campaign" isPending={campaign.isPending} error={campaign.error}>
        {campaign.data ? (
          <>
            <p className="muted">
              Launch {formatDate(campaign.data.launch_date)} ({campaign.data.mode} planning) · critical path highlighted
            </p>
            {campaign.data.unfit.length ? (
              <div className="problem" role="note">
                Tasks that did not fit: {campaign.data.unfit.map((item) => `${item.key} (${item.reason})`).join("; ")}
              </div>
            ) : null}
            <TimelineChart rows={timelineRows(campaign.data.tasks, campaign.data.launch_date, campaign.data.critical_path)} />
            {canPlan(me) && campaign.data.status === "active" ? <Reschedule campaign={campaign.data} /> : null}
          </>
        ) : null}
      </QueryState>
    </div>
  );
}

const DONE = new Set(["done", "cancelled"]);

/** Move the launch. Planning has no dry run: the form says what will move, then shows what did. */
function Reschedule({ campaign }: { campaign: Campaign }) {
  const queryClient = useQueryClient();
  const [launchDate, setLaunchDate] = useState("");
  const [before, setBefore] = useState<Campaign | null>(null);
  const reschedule = useMutation({
    mutationFn: () =>
      unwrap(
        planning.POST("/campaigns/{campaign_id}/reschedule", {
          params: { path: { campaign_id: campaign.id }, header: ifMatch(campaign.version) },
          body: { launch_date: launchDate },
        }),
      ),
    onMutate: () => setBefore(campaign),
    onSuccess: (updated) => {
      queryClient.setQueryData(["planning", "campaign", campaign.id], updated);
      void queryClient.invalidateQueries({ queryKey: ["execution", "board", campaign.id] });
    },
  });
  const open = campaign.tasks.filter((task) => !DONE.has(task.status));
  const shift = launchDate ? Math.round((Date.parse(launchDate) - Date.parse(campaign.launch_date)) / 86_400_000) : 0;
  const errors = fieldErrors(reschedule.error);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (launchDate) reschedule.mutate();
  };
  const moved = before && reschedule.data ? movedTasks(before.tasks, reschedule.data.tasks) : [];
  return (
    <section className="card reschedule" aria-labelledby="reschedule-heading">
      <h2 id="reschedule-heading">Reschedule</h2>
      <form onSubmit={submit} className="filters" noValidate>
        <label>
          New launch date
          <input
            type="date"
            value={launchDate}
            onChange={(event) => setLaunchDate(event.target.value)}
            aria-invalid={Boolean(errors.launch_date)}
            aria-describedby="reschedule-preview"
          />
          {errors.launch_date ? <span className="field-error">{errors.launch_date}</span> : null}
        </label>
        <button type="submit" className="primary" disabled={!launchDate || reschedule.isPending}>
          Move the launch
        </button>
      </form>
      <div id="reschedule-preview" aria-live="polite">
        {launchDate ? (
          <>
            <p>
              The launch moves {Math.abs(shift)} calendar day{Math.abs(shift) === 1 ? "" : "s"} {shift < 0 ? "earlier" : "later"}.
              These {open.length} tasks not yet done will be planned again from the new launch (in working days, so their
              exact dates come from planning); the {campaign.tasks.length - open.length} done ones stay:
            </p>
            <ul className="moving">
              {open.map((task) => (
                <li key={task.task_id}>
                  {task.title} <span className="muted">(due {formatDate(task.due_date)} now)</span>
                </li>
              ))}
            </ul>
          </>
        ) : (
          <p className="muted">Pick a date to see which tasks will move. Planning offers no dry run, so the exact new dates show once moved.</p>
        )}
      </div>
      {reschedule.error ? <ProblemAlert error={reschedule.error} onDismiss={() => reschedule.reset()} /> : null}
      {reschedule.data ? (
        moved.length ? (
          <table>
            <caption>What moved</caption>
            <thead>
              <tr><th scope="col">Task</th><th scope="col">Was due</th><th scope="col">Now due</th></tr>
            </thead>
            <tbody>
              {moved.map((item) => (
                <tr key={item.title}>
                  <td>{item.title}</td>
                  <td><del>{formatDate(item.fromDue)}</del></td>
                  <td><ins>{formatDate(item.toDue)}</ins></td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="empty">No task’s dates changed.</p>
        )
      ) : null}
    </section>
  );
}
