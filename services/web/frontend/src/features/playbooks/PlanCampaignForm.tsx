import { useState, type FormEvent } from "react";
import { asProblem } from "../../api/problem";
import type { Campaign, GoalSummary, MemberSummary, PlanCampaignBody, TeamSummary } from "../../api/types";
import { ProblemAlert } from "../../components/ProblemAlert";

/** Field errors of a 422, by the body field they name ("name", "assignments.writer", …). */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!error) return {};
  const found: Record<string, string> = {};
  for (const item of asProblem(error).errors ?? []) {
    const loc = item.loc[0] === "body" ? item.loc.slice(1) : item.loc;
    const key = loc.join(".") || "body";
    found[key] = found[key] ? `${found[key]}; ${item.msg}` : item.msg;
  }
  return found;
}

export interface PlanOptions {
  playbookId: string;
  playbookVersion: number;
  roles: string[];
  teams: TeamSummary[];
  goals: GoalSummary[];
  members: MemberSummary[];
}

/** Plan a campaign from a playbook: name, launch (or start) date, team, goals, who does each role. */
export function PlanCampaignForm({
  options,
  plan,
  onPlanned,
}: {
  options: PlanOptions;
  plan: (body: PlanCampaignBody) => Promise<Campaign>;
  onPlanned: (campaign: Campaign) => void;
}) {
  const [name, setName] = useState("");
  const [launchDate, setLaunchDate] = useState("");
  const [startDate, setStartDate] = useState("");
  const [teamId, setTeamId] = useState("");
  const [goalIds, setGoalIds] = useState<string[]>([]);
  const [assignments, setAssignments] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [pending, setPending] = useState(false);
  const errors = fieldErrors(error);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setPending(true);
    setError(null);
    const chosen = Object.fromEntries(Object.entries(assignments).filter(([, member]) => member));
    const body: PlanCampaignBody = {
      playbook_id: options.playbookId,
      playbook_version: options.playbookVersion,
      name,
      launch_date: launchDate || null,
      start_date: startDate || null,
      team_id: teamId || null,
      goal_ids: goalIds,
      ...(Object.keys(chosen).length ? { assignments: chosen } : {}),
    };
    try {
      onPlanned(await plan(body));
    } catch (failure) {
      setError(failure);
    } finally {
      setPending(false);
    }
  };

  const described = (field: string) => (errors[field] ? { "aria-invalid": true, "aria-describedby": `plan-${field}-error` } : {});
  const fieldError = (field: string) =>
    errors[field] ? (
      <span id={`plan-${field}-error`} className="field-error">
        {errors[field]}
      </span>
    ) : null;

  return (
    <form className="plan-form" aria-labelledby="plan-heading" onSubmit={submit} noValidate>
      <h2 id="plan-heading">Plan a campaign from version {options.playbookVersion}</h2>
      <div className="field">
        <label htmlFor="plan-name">Campaign name</label>
        <input id="plan-name" value={name} onChange={(event) => setName(event.target.value)} required {...described("name")} />
        {fieldError("name")}
      </div>
      <div className="field">
        <label htmlFor="plan-launch">Launch date</label>
        <input id="plan-launch" type="date" value={launchDate} onChange={(event) => setLaunchDate(event.target.value)} {...described("launch_date")} />
        {fieldError("launch_date")}
      </div>
      <div className="field">
        <label htmlFor="plan-start">Start date (instead of a launch date: plans forward)</label>
        <input id="plan-start" type="date" value={startDate} onChange={(event) => setStartDate(event.target.value)} {...described("start_date")} />
        {fieldError("start_date")}
      </div>
      <div className="field">
        <label htmlFor="plan-team">Team</label>
        <select id="plan-team" value={teamId} onChange={(event) => setTeamId(event.target.value)} {...described("team_id")}>
          <option value="">No team</option>
          {options.teams.map((team) => (
            <option key={team.team_id} value={team.team_id}>
              {team.name}
            </option>
          ))}
        </select>
        {fieldError("team_id")}
      </div>
      {options.goals.length ? (
        <fieldset className="field" {...described("goal_ids")}>
          <legend>Goals</legend>
          {options.goals.map((goal) => (
            <label key={goal.id} className="checkbox">
              <input
                type="checkbox"
                checked={goalIds.includes(goal.id)}
                onChange={(event) =>
                  setGoalIds(event.target.checked ? [...goalIds, goal.id] : goalIds.filter((id) => id !== goal.id))
                }
              />
              {goal.name}
            </label>
          ))}
          {fieldError("goal_ids")}
        </fieldset>
      ) : null}
      {options.roles.length ? (
        <fieldset className="field">
          <legend>Who does each role (optional: else the role's queue)</legend>
          {options.roles.map((role) => (
            <div key={role} className="field">
              <label htmlFor={`plan-role-${role}`}>{role}</label>
              <select
                id={`plan-role-${role}`}
                value={assignments[role] ?? ""}
                onChange={(event) => setAssignments({ ...assignments, [role]: event.target.value })}
                {...described(`assignments.${role}`)}
              >
                <option value="">The {role} queue</option>
                {options.members
                  .filter((member) => member.active)
                  .map((member) => (
                    <option key={member.member_id} value={member.member_id}>
                      {member.name}
                    </option>
                  ))}
              </select>
              {fieldError(`assignments.${role}`)}
            </div>
          ))}
          {fieldError("assignments")}
        </fieldset>
      ) : null}
      {error ? <ProblemAlert error={error} /> : null}
      <button type="submit" className="primary" disabled={pending}>
        {pending ? "Planning…" : "Plan a campaign"}
      </button>
    </form>
  );
}
