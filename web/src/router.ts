// A small client-side router on the History API: the gateway answers every page path a
// browser opens with index.html (gateway/envoy.yaml), and the app picks the page here.
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { page: "home" }
  | { page: "sign-in" | "sign-up"; next: string }
  | { page: "search"; q: string }
  | { page: "channel"; userId: string }
  | { page: "video"; videoId: string; minVersion: string }
  | { page: "new-video" }
  | { page: "notifications" }
  | { page: "not-found" };

const ID = "([0-9a-fA-F-]{36})";

/** The page a URL shows. */
export function match(url: URL): Route {
  const path = url.pathname.replace(/\/+$/, "") || "/";
  const query = url.searchParams;
  const next = safeNext(query.get("next"));
  let found: RegExpMatchArray | null;
  if (path === "/") return { page: "home" };
  if (path === "/signin") return { page: "sign-in", next };
  if (path === "/signup") return { page: "sign-up", next };
  if (path === "/search") return { page: "search", q: query.get("q") ?? "" };
  if (path === "/new") return { page: "new-video" };
  if (path === "/notifications") return { page: "notifications" };
  if ((found = path.match(new RegExp(`^/channels/${ID}$`)))) return { page: "channel", userId: found[1]! };
  if ((found = path.match(new RegExp(`^/videos/${ID}$`)))) {
    return { page: "video", videoId: found[1]!, minVersion: query.get("minVersion") ?? "0" };
  }
  return { page: "not-found" };
}

/** Only a path of this app may follow sign-in, never another site. */
export function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

const CHANGED = "vidmesh:navigate";

export function navigate(to: string, { replace = false } = {}): void {
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  window.dispatchEvent(new Event(CHANGED));
}

/** The current route; re-renders on links, back and forward. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => match(new URL(location.href)));
  useEffect(() => {
    const update = () => setRoute(match(new URL(location.href)));
    window.addEventListener("popstate", update);
    window.addEventListener(CHANGED, update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener(CHANGED, update);
    };
  }, []);
  return route;
}

/** Where the sign-in page sends the user back to. */
export function signInPath(): string {
  return `/signin?next=${encodeURIComponent(location.pathname + location.search)}`;
}
