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
export async function call<T>(pending: Promise<{ data?: T; error?: unknown; response: Response }>,
  { signInOn401 = true } = {}): Promise<T> {
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
