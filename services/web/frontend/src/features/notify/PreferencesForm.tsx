import { useState, type FormEvent } from "react";
import type { components } from "../../api/generated/notification";
import { ApiError } from "../../api/problem";
import { ProblemAlert } from "../../components/ProblemAlert";
import { fieldErrors } from "../playbooks/PlanCampaignForm";
import {
  CHANNEL_LABELS,
  CHANNELS,
  EVERY_OTHER,
  KINDS,
  fromTable,
  timeZones,
  toTable,
  type Channel,
  type ChannelTable,
} from "./channels";

export type Preferences = components["schemas"]["PreferencesOut"];
export type PreferencesBody = components["schemas"]["PreferencesIn"];

/** A field's errors: the ones at `field` itself or below it (`quiet_hours.0`, `channels.task.done.0`). */
export function errorAt(errors: Record<string, string>, field: string): string | undefined {
  const found = Object.entries(errors)
    .filter(([key]) => key === field || new RegExp(`^${field.replace(/[.*]/g, "\\$&")}\\.\\d+$`).test(key))
    .map(([, message]) => message);
  return found.length ? found.join("; ") : undefined;
}

const hhmm = (value: string | undefined) => (value ? value.slice(0, 5) : "");

/** Time zone, quiet hours, daily digest and the channels for each kind of notification. */
export function PreferencesForm({
  initial,
  save,
  onSaved,
}: {
  initial: Preferences;
  save: (body: PreferencesBody) => Promise<Preferences>;
  onSaved: (saved: Preferences) => void;
}) {
  const [timeZone, setTimeZone] = useState(initial.time_zone);
  const [quietFrom, setQuietFrom] = useState(hhmm(initial.quiet_hours?.[0]));
  const [quietUntil, setQuietUntil] = useState(hhmm(initial.quiet_hours?.[1]));
  const [digest, setDigest] = useState(initial.digest);
  const [table, setTable] = useState<ChannelTable>(() => toTable(initial.channels));
  const [error, setError] = useState<unknown>(null);
  const [pending, setPending] = useState(false);
  const [saved, setSaved] = useState(false);
  const [zones] = useState(() => timeZones(initial.time_zone));
  const errors = fieldErrors(error);

  const toggle = (kind: string, channel: Channel, on: boolean) => {
    setSaved(false);
    setTable((before) => {
      const chosen = (list: Channel[]) =>
        CHANNELS.filter((c) => (c === channel ? on : c === "in_app" || list.includes(c)));
      const next: ChannelTable = { ...before, [kind]: chosen(before[kind] ?? []) };
      if (kind === EVERY_OTHER) {
        // Kinds that followed "every other kind" keep following it.
        const old = before[EVERY_OTHER] ?? [];
        for (const other of KINDS) {
          const mine = before[other] ?? [];
          if (mine.length === old.length && mine.every((c) => old.includes(c))) next[other] = chosen(mine);
        }
      }
      return next;
    });
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    if (Boolean(quietFrom) !== Boolean(quietUntil)) {
      setError(
        new ApiError({
          title: "Quiet hours need a start and an end",
          status: 0,
          errors: [{ loc: ["quiet_hours"], msg: "Give both times, or neither for no quiet hours." }],
        }),
      );
      return;
    }
    setPending(true);
    setError(null);
    const body: PreferencesBody = {
      time_zone: timeZone,
      quiet_hours: quietFrom && quietUntil ? [quietFrom, quietUntil] : null,
      digest,
      channels: fromTable(table, initial.channels),
    };
    try {
      onSaved(await save(body));
      setSaved(true);
    } catch (failure) {
      setError(failure);
    } finally {
      setPending(false);
    }
  };

  const invalid = (field: string) =>
    errorAt(errors, field) ? { "aria-invalid": true, "aria-describedby": `prefs-${field}-error` } : {};
  const fieldError = (field: string) => {
    const message = errorAt(errors, field);
    return message ? (
      <span id={`prefs-${field}-error`} className="field-error">
        {message}
      </span>
    ) : null;
  };
  const channelsError = Object.entries(errors)
    .filter(([key]) => key === "channels" || key.startsWith("channels."))
    .map(([, message]) => message)
    .join("; ");

  return (
    <form className="preferences-form card" aria-labelledby="preferences-heading" onSubmit={submit} noValidate>
      <h2 id="preferences-heading">How you hear</h2>
      {error ? <ProblemAlert error={error} /> : null}
      <div className="field">
        <label htmlFor="prefs-time-zone">Time zone</label>
        <select id="prefs-time-zone" value={timeZone} onChange={(e) => setTimeZone(e.target.value)} {...invalid("time_zone")}>
          {zones.map((zone) => (
            <option key={zone} value={zone}>
              {zone}
            </option>
          ))}
        </select>
        {fieldError("time_zone")}
      </div>
      <fieldset className="field quiet-hours">
        <legend>Quiet hours (email waits until they end; leave both empty for none)</legend>
        <div className="row">
          <label>
            Quiet hours from
            <input type="time" value={quietFrom} onChange={(e) => setQuietFrom(e.target.value)} {...invalid("quiet_hours")} />
          </label>
          <label>
            Quiet hours until
            <input type="time" value={quietUntil} onChange={(e) => setQuietUntil(e.target.value)} {...invalid("quiet_hours")} />
          </label>
          {quietFrom || quietUntil ? (
            <button type="button" className="link-button" onClick={() => { setQuietFrom(""); setQuietUntil(""); }}>
              No quiet hours
            </button>
          ) : null}
        </div>
        {fieldError("quiet_hours")}
      </fieldset>
      <div className="field">
        <label className="checkbox">
          <input type="checkbox" checked={digest} onChange={(e) => setDigest(e.target.checked)} {...invalid("digest")} />
          Daily digest
        </label>
        <span className="muted"> one email a day instead of one per notification</span>
        {fieldError("digest")}
      </div>
      <div className="table-scroll">
        <table className="channels" aria-describedby={channelsError ? "prefs-channels-error" : undefined}>
          <caption>Channels per kind of notification</caption>
          <thead>
            <tr>
              <th scope="col">Kind</th>
              {CHANNELS.map((channel) => (
                <th scope="col" key={channel}>
                  {CHANNEL_LABELS[channel]}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {[...KINDS, EVERY_OTHER].map((kind) => {
              const name = kind === EVERY_OTHER ? "Every other kind" : kind;
              const rowError = kind === EVERY_OTHER ? undefined : errorAt(errors, `channels.${kind}`);
              return (
                <tr key={kind}>
                  <th scope="row">
                    {kind === EVERY_OTHER ? <>Every other kind (<code>*</code>)</> : <code>{kind}</code>}
                    {rowError ? <span className="field-error">{rowError}</span> : null}
                  </th>
                  {CHANNELS.map((channel) => (
                    <td key={channel}>
                      <input
                        type="checkbox"
                        aria-label={`${CHANNEL_LABELS[channel]} for ${name}`}
                        checked={channel === "in_app" || (table[kind] ?? []).includes(channel)}
                        disabled={channel === "in_app"}
                        onChange={(e) => toggle(kind, channel, e.target.checked)}
                      />
                    </td>
                  ))}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {channelsError ? (
        <span id="prefs-channels-error" className="field-error">
          {channelsError}
        </span>
      ) : null}
      <p className="muted">In-app notifications are always on.</p>
      <div className="row">
        <button type="submit" className="primary" disabled={pending}>
          Save preferences
        </button>
        <span role="status" aria-live="polite">
          {pending ? "Saving…" : saved ? "Preferences saved." : ""}
        </span>
      </div>
    </form>
  );
}
