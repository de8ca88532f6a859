// Sign in, or sign up (register, then sign in). The token is kept for this tab's session.
import { useState } from "preact/hooks";
import { api, call, write } from "../api/client";
import { ApiError } from "../api/errors";
import { Field } from "../components/Field";
import { Link } from "../components/Link";
import { asApiError } from "../components/load";
import { ErrorNotice } from "../components/Notice";
import { navigate } from "../router";
import { signIn } from "../session";

async function logIn(email: string, password: string, displayName?: string): Promise<void> {
  const login = await call(api.POST("/api/auth/v1/login", { body: { email, password } }), { signInOn401: false });
  const session = { token: login.accessToken, userId: login.userId, displayName: displayName ?? "" };
  signIn(session);
  if (!displayName) {  // the header shows the name: read it from the user's channel
    const channel = await call(api.GET("/api/web/v1/channels/{userId}", { params: { path: { userId: login.userId } } }));
    signIn({ ...session, displayName: channel.channel?.displayName ?? "" });
  }
}

// The login bucket gives a token back every few seconds (60 s / VIDMESH_GATEWAY_LOGIN_BURST).
const LOGIN_WAIT_MS = 3_000;
const LOGIN_WAIT_LIMIT_MS = 30_000;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sign in right after a sign-up. The account exists by now, so a rate-limited login is
 * waited out rather than shown: the form sent again would only say the email is taken. */
async function logInAfterSignUp(email: string, password: string, displayName: string): Promise<void> {
  for (let waited = 0; ; waited += LOGIN_WAIT_MS) {
    try {
      return await logIn(email, password, displayName);
    } catch (error) {
      if (!(error instanceof ApiError) || error.kind !== "rate-limited" || waited >= LOGIN_WAIT_LIMIT_MS) throw error;
      await pause(LOGIN_WAIT_MS);
    }
  }
}

export function SignIn({ mode, next }: { mode: "sign-in" | "sign-up"; next: string }) {
  const [form, setForm] = useState({ email: "", password: "", displayName: "" });
  const [failed, setFailed] = useState<ApiError>();
  const [signingIn, setSigningIn] = useState(false);
  const signingUp = mode === "sign-up";
  const set = (key: keyof typeof form) => (event: { currentTarget: { value: string } }) =>
    setForm({ ...form, [key]: event.currentTarget.value });
  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      if (signingUp) {
        await write((requestId) => api.POST("/api/auth/v1/register", { body: { ...form, requestId } }));
        setSigningIn(true);
        await logInAfterSignUp(form.email, form.password, form.displayName);
      } else {
        await logIn(form.email, form.password);
      }
      navigate(next, { replace: true });
    } catch (error) {
      setFailed(asApiError(error));
    } finally {
      setSigningIn(false);
    }
  };
  const errors = failed?.fieldErrors() ?? {};
  const title = signingUp ? "Sign up" : "Sign in";
  return (
    <>
      <h1>{title}</h1>
      {signingIn && <p role="status">Your account is ready: signing you in…</p>}
      {failed && failed.kind === "unauthenticated" && <p role="alert">Wrong email or password.</p>}
      {failed && failed.kind === "conflict" && <p role="alert">An account with this email exists: sign in instead.</p>}
      {failed && !["unauthenticated", "conflict", "invalid"].includes(failed.kind) && (
        <ErrorNotice error={failed} what="Signing in" />)}
      <form onSubmit={submit} noValidate>
        <Field id="email" label="Email" error={errors.email}>
          {(aria) => <input {...aria} type="email" autoComplete="username" value={form.email} onInput={set("email")} />}
        </Field>
        <Field id="password" label="Password" error={errors.password}>
          {(aria) => <input {...aria} type="password" autoComplete={signingUp ? "new-password" : "current-password"}
            value={form.password} onInput={set("password")} />}
        </Field>
        {signingUp && (
          <Field id="display-name" label="Display name" error={errors.displayName}>
            {(aria) => <input {...aria} value={form.displayName} onInput={set("displayName")} />}
          </Field>
        )}
        <button type="submit">{title}</button>
      </form>
      {signingUp ? <p>Have an account? <Link href={`/signin?next=${encodeURIComponent(next)}`}>Sign in</Link></p>
        : <p>New here? <Link href={`/signup?next=${encodeURIComponent(next)}`}>Sign up</Link></p>}
    </>
  );
}
