import type { TaskTemplate } from "../../api/types";
import { raciLetters, raciRoles } from "./raci";

const MEANING = { R: "responsible", A: "accountable (approves)", C: "consulted", I: "informed" } as const;

export function RaciMatrix({ roles, tasks }: { roles: string[]; tasks: TaskTemplate[] }) {
  const columns = raciRoles(roles, tasks);
  if (!tasks.length) return <p className="empty">No task.</p>;
  return (
    <div className="table-scroll">
      <table className="raci">
        <caption>
          RACI matrix: R responsible, A accountable (approves, in chain order), C consulted, I informed
        </caption>
        <thead>
          <tr>
            <th scope="col">Task</th>
            {columns.map((role) => (
              <th scope="col" key={role}>
                {role}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {tasks.map((task) => (
            <tr key={task.key}>
              <th scope="row">{task.title}</th>
              {columns.map((role) => {
                const letters = raciLetters(task, role);
                return (
                  <td key={role} className={letters.length ? `raci-cell raci-${letters[0]}` : "raci-cell"}>
                    {letters.length ? (
                      <abbr title={letters.map((letter) => MEANING[letter]).join(", ")}>{letters.join("")}</abbr>
                    ) : null}
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
