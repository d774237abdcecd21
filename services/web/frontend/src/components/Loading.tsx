import type { ReactNode } from "react";
import { ProblemAlert } from "./ProblemAlert";

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/** The three states of a query: failed (with the problem), loading, or its content. */
export function QueryState({
  what,
  isPending,
  error,
  children,
}: {
  what: string;
  isPending: boolean;
  error: unknown;
  children: ReactNode;
}) {
  if (error) return <ProblemAlert error={error} />;
  if (isPending) return <Loading what={what} />;
  return <>{children}</>;
}
