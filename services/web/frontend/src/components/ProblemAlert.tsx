import { asProblem } from "../api/problem";

/** Shows the server's problem details (title, detail, and each field's error on a 422). */
export function ProblemAlert({ error, onDismiss }: { error: unknown; onDismiss?: () => void }) {
  const problem = asProblem(error);
  return (
    <div role="alert" className="problem">
      <p className="problem-title">
        <strong>{problem.title}</strong>
        {problem.status ? <span className="problem-status"> ({problem.status})</span> : null}
      </p>
      {problem.detail ? <p className="problem-detail">{problem.detail}</p> : null}
      {problem.errors?.length ? (
        <ul className="problem-errors">
          {problem.errors.map((error, index) => (
            <li key={index}>
              <code>{error.loc.join(".")}</code>: {error.msg}
            </li>
          ))}
        </ul>
      ) : null}
      {onDismiss ? (
        <button type="button" className="link-button" onClick={onDismiss}>
          Dismiss
        </button>
      ) : null}
    </div>
  );
}
