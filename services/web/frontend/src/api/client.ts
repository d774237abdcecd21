import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { paths as ExecutionPaths } from "./generated/execution";
import type { paths as NotificationPaths } from "./generated/notification";
import type { paths as PlanningPaths } from "./generated/planning";
import type { paths as ReportingPaths } from "./generated/reporting";
import { ApiError, toProblem } from "./problem";

/** The BFF's CSRF guard: every request to /api and /auth carries it. */
export const CSRF_HEADER = { "X-Requested-With": "marketflow" } as const;

function origin(): string {
  return typeof window === "undefined" ? "http://localhost" : window.location.origin;
}

/** Same origin only: the BFF forwards /api/<service>/… with the session's credentials. */
const sameOrigin: Middleware = {
  onRequest({ request }) {
    request.headers.set("X-Requested-With", CSRF_HEADER["X-Requested-With"]);
    return request;
  },
};

function serviceClient<Paths extends {}>(service: string): Client<Paths> {
  const client = createClient<Paths>({
    baseUrl: `${origin()}/api/${service}`,
    credentials: "same-origin",
    headers: CSRF_HEADER,
  });
  client.use(sameOrigin);
  return client;
}

export const planning = serviceClient<PlanningPaths>("planning");
export const execution = serviceClient<ExecutionPaths>("execution");
export const notification = serviceClient<NotificationPaths>("notification");
export const reporting = serviceClient<ReportingPaths>("reporting");

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a successful answer, or an ApiError with the server's problem details. */
export async function unwrap<T>(pending: Promise<FetchResult<T>>): Promise<T> {
  let result: FetchResult<T>;
  try {
    result = await pending;
  } catch (error) {
    throw new ApiError({
      title: "Network error",
      status: 0,
      detail: error instanceof Error ? error.message : String(error),
    });
  }
  const { data, error, response } = result;
  if (!response.ok || error !== undefined) {
    throw new ApiError(toProblem(error, response.status, response.statusText));
  }
  return data as T;
}

/** The next page's cursor of a list (X-Next-Cursor, else the Link rel="next" URL's cursor). */
export function nextCursor(response: Response): string | null {
  const header = response.headers.get("X-Next-Cursor");
  if (header) return header;
  const link = response.headers.get("Link");
  const match = link?.match(/<([^>]+)>\s*;\s*rel="?next"?/);
  if (!match?.[1]) return null;
  return new URL(match[1], origin()).searchParams.get("cursor");
}

/** An entity tag for If-Match from a version the API reported (its ETag is "<version>"). */
export function ifMatch(version: number): { "if-match": string } {
  return { "if-match": `"${version}"` };
}

/** A plain same-origin request (the BFF's /auth endpoints, not in any service contract). */
export async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${origin()}${path}`, {
      credentials: "same-origin",
      ...init,
      headers: { Accept: "application/json", ...CSRF_HEADER, ...(init.headers ?? {}) },
    });
  } catch (error) {
    throw new ApiError({
      title: "Network error",
      status: 0,
      detail: error instanceof Error ? error.message : String(error),
    });
  }
  const text = await response.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (!response.ok) throw new ApiError(toProblem(body, response.status, response.statusText));
  return body as T;
}

/** Every page of a cursor-paged list (follows X-Next-Cursor / Link rel="next"). */
export async function allPages<T>(
  page: (cursor: string | undefined) => Promise<FetchResult<T[]>>,
  maxPages = 20,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let n = 0; n < maxPages; n += 1) {
    const pending = page(cursor);
    const result = await pending;
    items.push(...(await unwrap(Promise.resolve(result))));
    const next = nextCursor(result.response);
    if (!next) break;
    cursor = next;
  }
  return items;
}
