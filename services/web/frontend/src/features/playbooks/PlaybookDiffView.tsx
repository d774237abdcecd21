import type { PlaybookDiff } from "../../api/types";

function show(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** What changed between two versions: tasks added, removed, and each changed field old → new. */
export function PlaybookDiffView({ diff }: { diff: PlaybookDiff }) {
  const nothing = !diff.added.length && !diff.removed.length && !diff.changed.length && !Object.keys(diff.other).length;
  return (
    <div className="diff" aria-label={`Changes from version ${diff.from_version} to ${diff.to_version}`} role="region">
      <h3>
        Version {diff.from_version} → {diff.to_version}
      </h3>
      {nothing ? <p className="empty">The two versions are the same.</p> : null}
      {diff.added.length ? (
        <p>
          <span className="diff-added">Added tasks:</span>{" "}
          {diff.added.map((key) => (
            <ins key={key} className="diff-added">
              {key}{" "}
            </ins>
          ))}
        </p>
      ) : null}
      {diff.removed.length ? (
        <p>
          <span className="diff-removed">Removed tasks:</span>{" "}
          {diff.removed.map((key) => (
            <del key={key} className="diff-removed">
              {key}{" "}
            </del>
          ))}
        </p>
      ) : null}
      {diff.changed.length || Object.keys(diff.other).length ? (
        <table>
          <caption>Changed fields</caption>
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">Field</th>
              <th scope="col">Version {diff.from_version}</th>
              <th scope="col">Version {diff.to_version}</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(diff.other).map(([field, change]) => (
              <tr key={`playbook-${field}`}>
                <td className="muted">(playbook)</td>
                <td>{field}</td>
                <td><del className="diff-removed">{show(change.from)}</del></td>
                <td><ins className="diff-added">{show(change.to)}</ins></td>
              </tr>
            ))}
            {diff.changed.flatMap((task) =>
              Object.entries(task.fields).map(([field, change]) => (
                <tr key={`${task.key}-${field}`}>
                  <td>{task.key}</td>
                  <td>{field}</td>
                  <td><del className="diff-removed">{show(change.from)}</del></td>
                  <td><ins className="diff-added">{show(change.to)}</ins></td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
