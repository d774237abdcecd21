import type { CalendarEntry } from "../../api/types";

export const MONTHS = [
  "January", "February", "March", "April", "May", "June",
  "July", "August", "September", "October", "November", "December",
] as const;

export interface Bucket {
  key: string;
  label: string;
  entries: CalendarEntry[];
}

function monthOf(entry: Pick<CalendarEntry, "start_date" | "due_date" | "kind">): { year: number; month: number } {
  // A launch sits on its launch day; a task on its due date (when it must be there).
  const iso = entry.kind === "launch" ? entry.start_date : entry.due_date;
  return { year: Number(iso.slice(0, 4)), month: Number(iso.slice(5, 7)) - 1 };
}

function sorted(entries: CalendarEntry[]): CalendarEntry[] {
  return entries.sort(
    (a, b) => a.start_date.localeCompare(b.start_date) || a.title.localeCompare(b.title) || a.uid.localeCompare(b.uid),
  );
}

/** The year's entries in 12 month buckets (or 4 quarters), every bucket present, entries by date. */
export function groupByPeriod(entries: readonly CalendarEntry[], year: number, period: "month" | "quarter"): Bucket[] {
  const size = period === "month" ? 1 : 3;
  const buckets: Bucket[] = [];
  for (let index = 0; index < 12 / size; index++) {
    const first = MONTHS[index * size] ?? "";
    const last = MONTHS[index * size + size - 1] ?? "";
    buckets.push({
      key: period === "month" ? `${year}-${String(index + 1).padStart(2, "0")}` : `${year}-Q${index + 1}`,
      label: period === "month" ? first : `Q${index + 1} (${first.slice(0, 3)}–${last.slice(0, 3)})`,
      entries: [],
    });
  }
  for (const entry of entries) {
    const { year: entryYear, month } = monthOf(entry);
    if (entryYear !== year) continue;
    buckets[Math.floor(month / size)]?.entries.push(entry);
  }
  for (const bucket of buckets) sorted(bucket.entries);
  return buckets;
}
