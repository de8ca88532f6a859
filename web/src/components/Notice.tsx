import { describe, type ApiError } from "../api/errors";

/** A failed page or action, said plainly; a retry button where waiting helps. */
export function ErrorNotice({ error, what, retry }: { error: ApiError; what: string; retry?: () => void }) {
  const canRetry = retry && (error.kind === "rate-limited" || error.kind === "unavailable");
  return (
    <div role="alert" class="notice">
      <p>{describe(error, what)}</p>
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
