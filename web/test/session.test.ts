import { describe, expect, it } from "vitest";
import { currentSession, onSessionChange, signIn, signOut } from "../src/session";

/** The Web Storage API over a Map, as sessionStorage behaves. */
class MemoryStorage implements Storage {
  private items = new Map<string, string>();
  get length() { return this.items.size; }
  clear() { this.items.clear(); }
  getItem(key: string) { return this.items.get(key) ?? null; }
  key(index: number) { return [...this.items.keys()][index] ?? null; }
  removeItem(key: string) { this.items.delete(key); }
  setItem(key: string, value: string) { this.items.set(key, value); }
}

describe("session", () => {
  it("keeps the token until sign-out and tells listeners", () => {
    const storage = new MemoryStorage();
    const changes: string[] = [];
    const stop = onSessionChange(() => changes.push(currentSession(storage)?.userId ?? "none"));
    signIn({ token: "t", userId: "u1", displayName: "Ada" }, storage);
    expect(currentSession(storage)).toEqual({ token: "t", userId: "u1", displayName: "Ada" });
    signOut(storage);
    expect(currentSession(storage)).toBeNull();
    stop();
    expect(changes).toEqual(["u1", "none"]);
  });

  it("treats a damaged or partial entry as signed out", () => {
    const storage = new MemoryStorage();
    storage.setItem("vidmesh.session", "{not json");
    expect(currentSession(storage)).toBeNull();
    storage.setItem("vidmesh.session", JSON.stringify({ token: "t" }));
    expect(currentSession(storage)).toBeNull();
  });
});
