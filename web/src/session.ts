// Who is signed in, kept for the browser tab's session (sessionStorage): the token from
// Login, and the user's id and name for the header.
export interface Session {
  token: string;
  userId: string;
  displayName: string;
}

const KEY = "vidmesh.session";
const listeners = new Set<() => void>();

export function currentSession(storage: Storage = sessionStorage): Session | null {
  const saved = storage.getItem(KEY);
  if (!saved) return null;
  try {
    const parsed = JSON.parse(saved) as Partial<Session>;
    return parsed.token && parsed.userId ? { displayName: "", ...parsed } as Session : null;
  } catch {
    return null;
  }
}

export function signIn(session: Session, storage: Storage = sessionStorage): void {
  storage.setItem(KEY, JSON.stringify(session));
  listeners.forEach((listener) => listener());
}

export function signOut(storage: Storage = sessionStorage): void {
  storage.removeItem(KEY);
  listeners.forEach((listener) => listener());
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
