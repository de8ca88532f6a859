import { describe, expect, it } from "vitest";
import { unreadLabel } from "../src/components/UnreadBadge";
import { count, duration, tags } from "../src/format";

describe("format", () => {
  it("writes durations as a clock", () => {
    expect([5, 95, 3600, 86399].map(duration)).toEqual(["0:05", "1:35", "1:00:00", "23:59:59"]);
  });

  it("counts 64-bit strings in words", () => {
    expect(count("1", "view", "views")).toBe("1 view");
    expect(count("12000", "view", "views")).toBe("12,000 views");
    expect(count(0, "like", "likes")).toBe("0 likes");
  });

  it("splits tags on commas and drops the empty ones", () => {
    expect(tags(" otters, dawn ,, river ")).toEqual(["otters", "dawn", "river"]);
    expect(tags("")).toEqual([]);
  });

  it("names the unread count for screen readers", () => {
    expect(unreadLabel(0)).toBe("Notifications");
    expect(unreadLabel(3)).toBe("Notifications, 3 unread");
    expect(unreadLabel(null)).toBe("Notifications (unavailable right now)");
  });
});
