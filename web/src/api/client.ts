// The API client: openapi-fetch over the generated paths, so every request and response
// is typed by the OpenAPI document. Same origin as the app, so no CORS and no base URL.
import createClient, { type Middleware } from "openapi-fetch";
import { navigate, signInPath } from "../router";
import { currentSession, signOut } from "../session";
import { ApiError } from "./errors";
import type { paths } from "./schema";

const bearer: Middleware = {
  onRequest({ request }) {
    const session = currentSession();
    if (session) request.headers.set("authorization", `Bearer ${session.token}`);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: "" });
api.use(bearer);

/** Unwrap an openapi-fetch result: its data, or an ApiError carrying the Status body.
 * A 401 means the token is gone or expired: the user is sent to sign in (except by the
 * sign-in form itself, where it means a wrong password). */
export async function call<T>(pending: Result<T>, { signInOn401 = true } = {}): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await pending;
  } catch {
    throw new ApiError(0, { message: "the gateway cannot be reached" });
  }
  if (result.response.ok && result.data !== undefined) return result.data;
  const body = typeof result.error === "object" && result.error !== null ? result.error : undefined;
  const error = new ApiError(result.response.status, body as ApiError["status"]);
  if (error.kind === "unauthenticated" && signInOn401) {
    signOut();
    navigate(signInPath(), { replace: true });
  }
  throw error;
}

/** A fresh request id, reused if the same write is retried. */
export const requestId = (): string => crypto.randomUUID();

type Result<T> = Promise<{ data?: T; error?: unknown; response: Response }>;
export const WRITE_RETRIES = 2;
const BACKOFF_MS = 500;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Send a write that carries a request id, and send it again, with the same id, after a
 * 503 or 504: the gateway or the service gave up on it, and it may or may not have been
 * applied; the id makes the server apply it once either way. `send` gets the id. */
export async function write<T>(send: (id: string) => Result<T>, { backoffMs = BACKOFF_MS } = {}): Promise<T> {
  const id = requestId();
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(send(id));
    } catch (error) {
      if (!(error instanceof ApiError) || error.kind !== "unavailable" || attempt >= WRITE_RETRIES) throw error;
      await pause(backoffMs * 2 ** attempt);
    }
  }
}
