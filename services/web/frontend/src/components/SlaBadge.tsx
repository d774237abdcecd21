const LABELS: Record<string, string> = {
  on_time: "On time",
  at_risk: "At risk",
  late: "Late",
};

/** Execution's computed SLA status of an open task (null once it is finished). */
export function SlaBadge({ sla }: { sla: string | null | undefined }) {
  if (!sla) return null;
  const label = LABELS[sla] ?? sla.replace(/_/g, " ");
  return (
    <span className={`badge sla-${sla}`} title={`SLA: ${label}`}>
      <span aria-hidden="true">{sla === "late" ? "● " : sla === "at_risk" ? "▲ " : "✓ "}</span>
      {label}
    </span>
  );
}
