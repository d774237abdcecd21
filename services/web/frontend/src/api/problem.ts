/** RFC 9457 problem details, as every service and the BFF answer errors. */
export interface FieldError {
  loc: (string | number)[];
  msg: string;
  type?: string;
}

export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
}

/** A failed request, carrying the server's problem (or one made up for a network error). */
export class ApiError extends Error {
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.name = "ApiError";
    this.problem = problem;
  }

  get status(): number {
    return this.problem.status;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** Reads a problem from an error body; falls back to the HTTP status when the body is not one. */
export function toProblem(body: unknown, status: number, statusText = ""): Problem {
  if (isRecord(body) && typeof body.title === "string") {
    const problem: Problem = {
      title: body.title,
      status: typeof body.status === "number" ? body.status : status,
    };
    if (typeof body.type === "string") problem.type = body.type;
    if (typeof body.detail === "string") problem.detail = body.detail;
    if (typeof body.instance === "string") problem.instance = body.instance;
    if (Array.isArray(body.errors)) {
      problem.errors = body.errors.filter(isRecord).map((error) => ({
        loc: Array.isArray(error.loc) ? (error.loc as (string | number)[]) : [],
        msg: typeof error.msg === "string" ? error.msg : String(error.msg),
        ...(typeof error.type === "string" ? { type: error.type } : {}),
      }));
    }
    return problem;
  }
  return {
    title: statusText || `Request failed`,
    status,
    detail: typeof body === "string" && body ? body : `The server answered ${status}.`,
  };
}

export function asProblem(error: unknown): Problem {
  if (error instanceof ApiError) return error.problem;
  if (error instanceof Error) return { title: "Request failed", status: 0, detail: error.message };
  return { title: "Request failed", status: 0, detail: String(error) };
}
