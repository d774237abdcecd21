import type { MemberLoad } from "../../api/types";

/** Share of the week's capacity the effort due that week takes (0 when there is no capacity). */
export function loadShare(effortHours: number, capacityHours: number): number {
  if (capacityHours <= 0) return effortHours > 0 ? 2 : 0;
  return effortHours / capacityHours;
}

/** Heat levels 0–4 (empty, light, medium, full, over capacity). */
export function heatLevel(effortHours: number, capacityHours: number, over: boolean): number {
  if (over) return 4;
  const share = loadShare(effortHours, capacityHours);
  if (share <= 0) return 0;
  if (share < 0.4) return 1;
  if (share < 0.75) return 2;
  return 3;
}

/** Members by week: effort due against weekly capacity, the over-capacity weeks marked. */
export function WorkloadHeatmap({ members }: { members: MemberLoad[] }) {
  const weeks = [...new Map(members.flatMap((member) => member.weeks).map((week) => [week.week, week])).values()].sort(
    (a, b) => a.starts_on.localeCompare(b.starts_on),
  );
  if (!members.length || !weeks.length) return <p className="empty">No workload to show.</p>;
  return (
    <div className="table-scroll">
      <table className="heatmap">
        <caption>Effort due per week against capacity (hours)</caption>
        <thead>
          <tr>
            <th scope="col">Member</th>
            <th scope="col">Open</th>
            {weeks.map((week) => (
              <th scope="col" key={week.week}>
                {week.week}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {members.map((member) => (
            <tr key={member.member_id}>
              <th scope="row">{member.name ?? member.member_id}</th>
              <td>
                {member.open_tasks}
                {member.overdue_tasks ? <span className="badge sla-late"> {member.overdue_tasks} overdue</span> : null}
              </td>
              {weeks.map((column) => {
                const week = member.weeks.find((w) => w.week === column.week);
                if (!week) return <td key={column.week} className="heat heat-0">—</td>;
                const level = heatLevel(week.effort_hours, member.weekly_capacity_hours, week.over_capacity);
                return (
                  <td key={column.week} className={`heat heat-${level}`}>
                    {Math.round(week.effort_hours)}/{member.weekly_capacity_hours}
                    {week.over_capacity ? <span className="over"> over</span> : null}
                    <span className="sr-only">, {week.tasks_due} tasks due</span>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
