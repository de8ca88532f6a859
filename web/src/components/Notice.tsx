import { describe, type ApiError } from "../api/errors";

/** A failed page or action, said plainly; a retry button where waiting helps (a page read
 * through minVersion, `awaited`, may be waiting for the user's own write to be projected). */
export function ErrorNotice({ error, what, retry, awaited = false }:
  { error: ApiError; what: string; retry?: () => void; awaited?: boolean }) {
  const canRetry = retry && (error.kind === "rate-limited" || error.kind === "unavailable"
    || (awaited && error.kind === "not-found"));
  return (
    <div role="alert" class="notice">
      <p>{describe(error, what, awaited)}</p>
      {canRetry && <button type="button" onClick={retry}>Retry</button>}
    </div>
  );
}

/** A part of a page the BFF could not fetch in time (listed in `degraded`). */
export function Unavailable({ what }: { what: string }) {
  return <p class="unavailable" role="status">{what} unavailable right now.</p>;
}

export function Loading() {
  return <p role="status" aria-live="polite">Loading…</p>;
}
