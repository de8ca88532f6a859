import { describe as suite, expect, it } from "vitest";
import { ApiError, describe, jsonFieldName } from "../src/api/errors";

const badRequest = (...violations: [string, string][]) => new ApiError(400, {
  code: 3,
  message: violations.map(([f, d]) => `${f}: ${d}`).join("; "),
  details: [{
    "@type": "type.googleapis.com/google.rpc.BadRequest",
    fieldViolations: violations.map(([field, description]) => ({ field, description })),
  }],
});

suite("ApiError", () => {
  it("names the kind of failure from the HTTP status", () => {
    expect([400, 401, 403, 404, 409, 429, 503, 500, 0].map((s) => new ApiError(s, undefined).kind)).toEqual(
      ["invalid", "unauthenticated", "forbidden", "not-found", "conflict", "rate-limited", "unavailable", "other",
        "unavailable"]);
  });

  it("keys field violations by the JSON names the forms use", () => {
    const error = badRequest(["duration_seconds", "must be at least 1"], ["tags[1]", "too long"], ["title", "required"]);
    expect(error.fieldErrors()).toEqual({ durationSeconds: "must be at least 1", tags: "too long", title: "required" });
  });

  it("joins two violations of one field", () => {
    expect(badRequest(["tags[0]", "too short"], ["tags", "not unique"]).fieldErrors())
      .toEqual({ tags: "too short; not unique" });
  });

  it("ignores details that are not a BadRequest, and a body that is not a Status", () => {
    const other = new ApiError(400, { code: 3, message: "m", details: [{ "@type": "type.googleapis.com/x.Y" }] });
    expect(other.fieldErrors()).toEqual({});
    expect(new ApiError(502, undefined).fieldErrors()).toEqual({});
    expect(new ApiError(502, undefined).message).toBe("HTTP 502");
  });
});

suite("jsonFieldName", () => {
  it("camel-cases the top field of a path", () => {
    expect(jsonFieldName("display_name")).toBe("displayName");
    expect(jsonFieldName("video.card.view_count")).toBe("video");
    expect(jsonFieldName("notification_ids[3]")).toBe("notificationIds");
  });
});

suite("describe", () => {
  it("says unavailable and rate limited plainly", () => {
    expect(describe(new ApiError(503, { message: "x" }), "Notifications"))
      .toBe("Notifications is unavailable right now. Try again in a moment.");
    expect(describe(new ApiError(429, { message: "x" }), "Search")).toMatch(/Too many requests/);
    expect(describe(new ApiError(409, { message: "version changed" }), "It")).toBe("version changed");
  });

  it("says a page awaited through minVersion is not there yet, not that it does not exist", () => {
    expect(describe(new ApiError(404, { message: "x" }), "This video")).toBe("This video was not found.");
    expect(describe(new ApiError(404, { message: "x" }), "This video", true))
      .toBe("This video is not there yet. Try again in a moment.");
  });
});
