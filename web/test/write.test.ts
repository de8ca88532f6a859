import { describe, expect, it } from "vitest";
import { write, WRITE_RETRIES } from "../src/api/client";
import { ApiError } from "../src/api/errors";

/** What openapi-fetch resolves to, for one HTTP status. */
function answer(status: number) {
  const ok = status === 200;
  return Promise.resolve({
    data: ok ? { version: "2" } : undefined,
    error: ok ? undefined : { code: status === 400 ? 3 : 14, message: `HTTP ${status}` },
    response: new Response(null, { status }),
  });
}

function server(...statuses: number[]) {
  const ids: string[] = [];
  const send = (id: string) => {
    ids.push(id);
    return answer(statuses.shift() ?? 200);
  };
  return { ids, send };
}

describe("write", () => {
  it("sends a write again, with the same request id, after a 503 or 504", async () => {
    const { ids, send } = server(503, 504, 200);
    await expect(write(send, { backoffMs: 0 })).resolves.toEqual({ version: "2" });
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
  });

  it("gives up after its retries with the unavailable error", async () => {
    const { ids, send } = server(503, 503, 503, 503);
    const failed = write(send, { backoffMs: 0 });
    await expect(failed).rejects.toBeInstanceOf(ApiError);
    await expect(failed).rejects.toMatchObject({ kind: "unavailable" });
    expect(ids).toHaveLength(WRITE_RETRIES + 1);
  });

  it("does not send again what the server refused", async () => {
    const { ids, send } = server(400);
    await expect(write(send, { backoffMs: 0 })).rejects.toMatchObject({ kind: "invalid" });
    expect(ids).toHaveLength(1);
  });

  it("uses a new request id for each write", async () => {
    const first = server(200);
    const second = server(200);
    await write(first.send, { backoffMs: 0 });
    await write(second.send, { backoffMs: 0 });
    expect(first.ids[0]).not.toEqual(second.ids[0]);
  });
});
