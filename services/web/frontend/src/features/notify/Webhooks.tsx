import { useEffect, useRef, useState, type FormEvent } from "react";
import type { components } from "../../api/generated/notification";
import { ProblemAlert } from "../../components/ProblemAlert";
import { fieldErrors } from "../playbooks/PlanCampaignForm";
import { KINDS } from "./channels";
import { errorAt } from "./PreferencesForm";

export type Webhook = components["schemas"]["WebhookOut"];
export type WebhookWithSecret = components["schemas"]["WebhookWithSecret"];
export type WebhookTest = components["schemas"]["WebhookTestOut"];
export type WebhookBody = components["schemas"]["WebhookIn"];

export interface WebhookApi {
  add: (body: WebhookBody) => Promise<WebhookWithSecret>;
  remove: (id: string) => Promise<unknown>;
  rotate: (id: string) => Promise<WebhookWithSecret>;
  test: (id: string) => Promise<WebhookTest>;
}

/** The member's webhooks: add one, test, rotate its secret, delete; a new secret is shown once. */
export function WebhookManager({ webhooks, api }: { webhooks: readonly Webhook[]; api: WebhookApi }) {
  const [revealed, setRevealed] = useState<WebhookWithSecret | null>(null);
  return (
    <section className="card webhooks" aria-labelledby="webhooks-heading">
      <h2 id="webhooks-heading">Your webhooks</h2>
      <p className="muted">
        Notifications are also POSTed, signed with the webhook's secret, to these URLs (when a kind's
        “Webhook” channel is on).
      </p>
      {revealed ? <SecretOnce webhook={revealed} onDone={() => setRevealed(null)} /> : null}
      {webhooks.length === 0 ? (
        <p className="empty">No webhook.</p>
      ) : (
        <ul className="list webhook-list">
          {webhooks.map((webhook) => (
            <WebhookItem key={webhook.id} webhook={webhook} api={api} onSecret={setRevealed} />
          ))}
        </ul>
      )}
      <AddWebhookForm add={api.add} onAdded={setRevealed} />
    </section>
  );
}

function WebhookItem({
  webhook,
  api,
  onSecret,
}: {
  webhook: Webhook;
  api: WebhookApi;
  onSecret: (created: WebhookWithSecret) => void;
}) {
  const [busy, setBusy] = useState<"test" | "rotate" | "delete" | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [result, setResult] = useState<WebhookTest | null>(null);
  const [error, setError] = useState<unknown>(null);
  const run = async <T,>(what: "test" | "rotate" | "delete", action: () => Promise<T>, then: (value: T) => void) => {
    setBusy(what);
    setError(null);
    try {
      then(await action());
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(null);
    }
  };
  return (
    <li>
      <p className="webhook-url">
        <code>{webhook.url}</code>{" "}
        {webhook.active ? null : (
          <span className="badge">disabled{webhook.disabled_reason ? `: ${webhook.disabled_reason}` : ""}</span>
        )}
      </p>
      <p className="muted">Kinds: {webhook.kinds.length ? webhook.kinds.join(", ") : "every kind"}</p>
      <div className="row">
        <button
          type="button"
          onClick={() => run("test", () => api.test(webhook.id), setResult)}
          disabled={busy !== null}
          aria-label={`Send a test to ${webhook.url}`}
        >
          {busy === "test" ? "Sending test…" : "Send a test"}
        </button>
        <button
          type="button"
          onClick={() => run("rotate", () => api.rotate(webhook.id), onSecret)}
          disabled={busy !== null}
          aria-label={`Rotate the secret of ${webhook.url}`}
        >
          Rotate the secret
        </button>
        {confirming ? (
          <>
            <button
              type="button"
              className="danger"
              onClick={() => run("delete", () => api.remove(webhook.id), () => setConfirming(false))}
              disabled={busy !== null}
              aria-label={`Confirm deleting ${webhook.url}`}
            >
              Confirm delete
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </>
        ) : (
          <button type="button" onClick={() => setConfirming(true)} aria-label={`Delete ${webhook.url}`}>
            Delete
          </button>
        )}
      </div>
      <p role="status" aria-live="polite" className="test-result">
        {result ? testSummary(result) : null}
      </p>
      {error ? <ProblemAlert error={error} onDismiss={() => setError(null)} /> : null}
    </li>
  );
}

export function testSummary(result: WebhookTest): string {
  if (result.delivered) return `Test delivered: the receiver answered ${result.status_code ?? "OK"}.`;
  const answer = result.status_code ? `the receiver answered ${result.status_code}` : "the receiver was not reachable";
  return `Test not delivered: ${answer}${result.error ? ` (${result.error})` : ""}.`;
}

/** A new `whsec_` secret, shown this one time, with a copy button. */
function SecretOnce({ webhook, onDone }: { webhook: WebhookWithSecret; onDone: () => void }) {
  const region = useRef<HTMLDivElement>(null);
  const [copied, setCopied] = useState<string>("");
  useEffect(() => region.current?.focus(), [webhook.secret]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(webhook.secret);
      setCopied("Copied.");
    } catch {
      setCopied("Could not copy: select the secret and copy it yourself.");
    }
  };
  return (
    <div
      ref={region}
      tabIndex={-1}
      className="secret-once problem"
      role="region"
      aria-labelledby="secret-heading"
    >
      <h3 id="secret-heading">Signing secret of {webhook.url}</h3>
      <p>
        <strong>Copy it now: it won't be shown again.</strong> Use it to verify the signature of what
        this webhook receives.
      </p>
      <div className="row">
        <label>
          Signing secret
          <input type="text" readOnly value={webhook.secret} size={48} onFocus={(e) => e.target.select()} />
        </label>
        <button type="button" onClick={copy}>
          Copy secret
        </button>
        <span role="status" aria-live="polite">
          {copied}
        </span>
      </div>
      <button type="button" className="link-button" onClick={onDone}>
        I have stored it
      </button>
    </div>
  );
}

function AddWebhookForm({
  add,
  onAdded,
}: {
  add: (body: WebhookBody) => Promise<WebhookWithSecret>;
  onAdded: (created: WebhookWithSecret) => void;
}) {
  const [url, setUrl] = useState("");
  const [kinds, setKinds] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [pending, setPending] = useState(false);
  const errors = fieldErrors(error);
  const urlError = errorAt(errors, "url");
  const kindsError = errorAt(errors, "kinds");
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setPending(true);
    setError(null);
    try {
      onAdded(await add({ url: url.trim(), kinds }));
      setUrl("");
      setKinds([]);
    } catch (failure) {
      setError(failure);
    } finally {
      setPending(false);
    }
  };
  return (
    <form className="add-webhook" aria-labelledby="add-webhook-heading" onSubmit={submit} noValidate>
      <h3 id="add-webhook-heading">Add a webhook</h3>
      {error ? <ProblemAlert error={error} /> : null}
      <div className="field">
        <label htmlFor="webhook-url">Webhook URL</label>
        <input
          id="webhook-url"
          type="url"
          inputMode="url"
          placeholder="https://…"
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          {...(urlError ? { "aria-invalid": true, "aria-describedby": "webhook-url-error" } : {})}
        />
        {urlError ? (
          <span id="webhook-url-error" className="field-error">
            {urlError}
          </span>
        ) : null}
      </div>
      <fieldset className="field kinds" aria-describedby={kindsError ? "webhook-kinds-error" : undefined}>
        <legend>Kinds (optional: none chosen sends every kind)</legend>
        <div className="kind-grid">
          {KINDS.map((kind) => (
            <label key={kind} className="checkbox">
              <input
                type="checkbox"
                checked={kinds.includes(kind)}
                onChange={(e) =>
                  setKinds((before) => (e.target.checked ? [...before, kind] : before.filter((k) => k !== kind)))
                }
              />
              {kind}
            </label>
          ))}
        </div>
        {kindsError ? (
          <span id="webhook-kinds-error" className="field-error">
            {kindsError}
          </span>
        ) : null}
      </fieldset>
      <button type="submit" className="primary" disabled={pending}>
        Add webhook
      </button>
    </form>
  );
}
