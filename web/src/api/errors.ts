// The one error body of the REST API (google.rpc.Status, see the OpenAPI document) turned
// into what a page shows: which kind of failure it is, and which form field it is about.
import type { BadRequest, Status } from "./schema";

export type ErrorKind = "invalid" | "unauthenticated" | "forbidden" | "not-found" | "conflict"
  | "rate-limited" | "unavailable" | "other";

const KIND_OF_HTTP: Record<number, ErrorKind> = {
  400: "invalid", 401: "unauthenticated", 403: "forbidden", 404: "not-found", 409: "conflict",
  429: "rate-limited", 503: "unavailable", 504: "unavailable",
};

const BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest";

export class ApiError extends Error {
  readonly kind: ErrorKind;

  constructor(readonly httpStatus: number, readonly status: Partial<Status> | undefined) {
    super(status?.message || `HTTP ${httpStatus}`);
    this.kind = KIND_OF_HTTP[httpStatus] ?? (httpStatus === 0 ? "unavailable" : "other");
  }

  /** Each offending field's message, keyed by the field's JSON name as the forms use it. */
  fieldErrors(): Record<string, string> {
    const errors: Record<string, string> = {};
    for (const detail of this.status?.details ?? []) {
      if (detail["@type"] !== BAD_REQUEST) continue;
      for (const violation of (detail as BadRequest).fieldViolations ?? []) {
        const field = jsonFieldName(violation.field ?? "");
        errors[field] = errors[field] ? `${errors[field]}; ${violation.description}` : violation.description ?? "";
      }
    }
    return errors;
  }
}

/** `duration_seconds` -> `durationSeconds`, `tags[1]` -> `tags`: violations name proto fields. */
export function jsonFieldName(protoPath: string): string {
  const top = protoPath.split(/[.[]/, 1)[0] ?? "";
  return top.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

/** What to tell the user when a whole page or action failed. `awaited`: the page was read
 * through minVersion, after a write of the user's own, so a 404 may be a write on its way. */
export function describe(error: ApiError, what: string, awaited = false): string {
  switch (error.kind) {
    case "unavailable": return `${what} is unavailable right now. Try again in a moment.`;
    case "rate-limited": return "Too many requests right now. Wait a moment, then retry.";
    case "not-found": return awaited ? `${what} is not there yet. Try again in a moment.` : `${what} was not found.`;
    case "forbidden": return "You are not allowed to do that.";
    default: return error.message;
  }
}
