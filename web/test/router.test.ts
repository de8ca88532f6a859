import { describe, expect, it } from "vitest";
import { match, safeNext } from "../src/router";

const ID = "6d1c1d36-5d43-4e0f-9a39-2a4f7e9f3b11";
const at = (path: string) => match(new URL(path, "http://gateway.test"));

describe("match", () => {
  it("maps each page path to its page", () => {
    expect(at("/")).toEqual({ page: "home" });
    expect(at("/new")).toEqual({ page: "new-video" });
    expect(at("/notifications/")).toEqual({ page: "notifications" });
    expect(at(`/channels/${ID}`)).toEqual({ page: "channel", userId: ID });
    expect(at("/search?q=otters%20at%20dawn")).toEqual({ page: "search", q: "otters at dawn" });
  });

  it("reads a video through the version the viewer wrote", () => {
    expect(at(`/videos/${ID}?minVersion=4`)).toEqual({ page: "video", videoId: ID, minVersion: "4" });
    expect(at(`/videos/${ID}`)).toEqual({ page: "video", videoId: ID, minVersion: "0" });
  });

  it("keeps where to go after signing in", () => {
    expect(at("/signin?next=%2Fnew")).toEqual({ page: "sign-in", next: "/new" });
    expect(at("/signup")).toEqual({ page: "sign-up", next: "/" });
  });

  it("does not take a malformed id or an unknown path", () => {
    expect(at("/videos/not-an-id")).toEqual({ page: "not-found" });
    expect(at("/api/web/v1/home")).toEqual({ page: "not-found" });
  });
});

describe("safeNext", () => {
  it("only allows paths of this site", () => {
    expect(safeNext("/videos/1")).toBe("/videos/1");
    expect(safeNext("//evil.example/")).toBe("/");
    expect(safeNext("https://evil.example/")).toBe("/");
    expect(safeNext(null)).toBe("/");
  });
});
