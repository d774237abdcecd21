import { Link } from "react-router";
import type { CampaignProgress, CampaignSummary, PlaybookSummary } from "../../api/types";
import { formatDate } from "../../components/dates";
import { QueryState } from "../../components/Loading";
import { ProblemAlert } from "../../components/ProblemAlert";
import { useSignedInMember } from "../auth/session";
import { campaignLinks, useCampaigns, usePlaybooks, useProgressReport } from "./queries";

export default function CampaignList() {
  const campaigns = useCampaigns();
  const playbooks = usePlaybooks();
  const me = useSignedInMember();
  const progress = useProgressReport(me);
  return (
    <div className="campaigns">
      <h1>Campaigns</h1>
      <p className="muted">
        Pick a campaign to open its board, timeline or audit trail. <Link to="/playbooks">Plan a new one from a playbook</Link>.
      </p>
      {playbooks.error ? <ProblemAlert error={playbooks.error} /> : null}
      {progress.error ? <ProblemAlert error={progress.error} /> : null}
      <QueryState what="the campaigns" isPending={campaigns.isPending} error={campaigns.error}>
        <CampaignTable campaigns={campaigns.data ?? []} playbooks={playbooks.data ?? []} progress={progress.data ?? []} />
      </QueryState>
    </div>
  );
}

export function CampaignTable({
  campaigns,
  playbooks,
  progress,
}: {
  campaigns: CampaignSummary[];
  playbooks: PlaybookSummary[];
  progress: CampaignProgress[];
}) {
  if (!campaigns.length) return <p className="empty">No campaign yet.</p>;
  const playbookName = new Map(playbooks.map((playbook) => [playbook.id, playbook.name]));
  const progressOf = new Map(progress.map((row) => [row.campaign_id, row]));
  const sorted = [...campaigns].sort((a, b) => a.launch_date.localeCompare(b.launch_date));
  return (
    <div className="table-scroll">
      <table>
        <caption>Campaigns by launch date</caption>
        <thead>
          <tr>
            <th scope="col">Campaign</th>
            <th scope="col">Playbook</th>
            <th scope="col">Start</th>
            <th scope="col">Launch</th>
            <th scope="col">Status</th>
            <th scope="col">Progress</th>
            <th scope="col">Open</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((campaign) => {
            const row = progressOf.get(campaign.id);
            const links = campaignLinks(campaign.id);
            const percent = row ? Math.round(row.percent_done) : null;
            return (
              <tr key={campaign.id}>
                <th scope="row">
                  <Link to={links.board}>{campaign.name}</Link>
                </th>
                <td>
                  <Link to={`/playbooks/${campaign.playbook_id}`}>
                    {playbookName.get(campaign.playbook_id) ?? "Playbook"}
                  </Link>{" "}
                  <span className="muted">v{campaign.playbook_version}</span>
                </td>
                <td>{formatDate(row?.start_date)}</td>
                <td>{formatDate(campaign.launch_date)}</td>
                <td>{campaign.status}</td>
                <td>
                  {percent === null || !row ? (
                    <span className="muted">—</span>
                  ) : (
                    <>
                      <progress max={100} value={percent} aria-label={`${campaign.name}: ${percent}% done`} />{" "}
                      {row.tasks_done}/{row.tasks_total} ({percent}%)
                    </>
                  )}
                </td>
                <td>
                  <span className="row">
                    <Link to={links.board} aria-label={`Board of ${campaign.name}`}>Board</Link>
                    <Link to={links.timeline} aria-label={`Timeline of ${campaign.name}`}>Timeline</Link>
                    <Link to={links.audit} aria-label={`Audit of ${campaign.name}`}>Audit</Link>
                  </span>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
