/** The notification kinds a member chooses channels for, in the order the table shows them. */
export const KINDS = [
  "task.assigned",
  "task.taken_over",
  "task.reassigned_away",
  "task.ready",
  "task.changes_requested",
  "task.approved",
  "task.done",
  "task.blocked",
  "task.dates_moved",
  "campaign.dates_moved",
  "approval.requested",
  "comment.requested",
  "approval.escalated",
  "approval.taken_over",
  "task.reminder",
  "task.late",
  "task.late.escalated",
  "approval.reminder",
] as const;

/** Every kind a member did not choose for by name. */
export const EVERY_OTHER = "*";

export const CHANNELS = ["in_app", "email", "webhook"] as const;
export type Channel = (typeof CHANNELS)[number];

export const CHANNEL_LABELS: Record<Channel, string> = { in_app: "In app", email: "Email", webhook: "Webhook" };

/** What the service does for a member who chose nothing: in the app, by email and on webhooks. */
const DEFAULTS: readonly Channel[] = CHANNELS;

export type ChannelTable = Record<string, Channel[]>;

function normalise(chosen: readonly string[]): Channel[] {
  return CHANNELS.filter((channel) => channel === "in_app" || chosen.includes(channel));
}

/** One row per kind (and `*`) as the service applies them: the kind's choice, else `*`'s, else the defaults. */
export function toTable(channels: Record<string, string[]>): ChannelTable {
  const every = normalise(channels[EVERY_OTHER] ?? DEFAULTS);
  const table: ChannelTable = { [EVERY_OTHER]: every };
  for (const kind of KINDS) table[kind] = channels[kind] ? normalise(channels[kind]) : every;
  return table;
}

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

/**
 * The body's channels: `*` and each kind that differs from it; kinds this page does not
 * show keep what the member chose before.
 */
export function fromTable(table: ChannelTable, before: Record<string, string[]>): Record<string, string[]> {
  const every = table[EVERY_OTHER] ?? [...DEFAULTS];
  const channels: Record<string, string[]> = {};
  for (const [kind, chosen] of Object.entries(before)) {
    if (kind !== EVERY_OTHER && !(KINDS as readonly string[]).includes(kind)) channels[kind] = chosen;
  }
  channels[EVERY_OTHER] = normalise(every);
  for (const kind of KINDS) {
    const chosen = normalise(table[kind] ?? every);
    if (!same(chosen, channels[EVERY_OTHER])) channels[kind] = chosen;
  }
  return channels;
}

/** Every IANA time zone the browser knows (with UTC and the member's current one). */
export function timeZones(current: string): string[] {
  let zones: string[] = [];
  try {
    zones = Intl.supportedValuesOf("timeZone");
  } catch {
    zones = [];
  }
  const all = new Set(zones);
  all.add("UTC");
  if (current) all.add(current);
  return [...all].sort((a, b) => a.localeCompare(b));
}
