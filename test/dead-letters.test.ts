import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { seedConnection } from "./helpers/connections";

describe("dead-letter consumers", () => {
  it("record an exhausted outbound message once, with its connection, and log it", async () => {
    const connection = await seedConnection();
    const body = { connection_id: connection.id, kind: "user", local_pk: 7 };
    for (let delivery = 0; delivery < 2; delivery++) {
      const batch = createMessageBatch("intercom-outbound-dlq", [
        { id: "msg-out-1", timestamp: new Date(), attempts: 1, body },
      ]);
      const ctx = createExecutionContext();
      await worker.queue(batch, env, ctx);
      const result = await getQueueResult(batch, ctx);
      expect(result.explicitAcks).toEqual(["msg-out-1"]);
    }
    const { results } = await env.DB.prepare("SELECT * FROM dead_letters WHERE message_id = 'msg-out-1'").all();
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({
      queue: "intercom-outbound",
      connection_id: connection.id,
      body: JSON.stringify(body),
    });
    const log = await env.DB.prepare(
      "SELECT * FROM sync_logs WHERE outcome = 'dead_letter' AND object_id = 'msg-out-1'",
    ).all();
    expect(log.results).toHaveLength(1);
    expect(log.results[0]).toMatchObject({ direction: "out", connection_id: connection.id, workspace_id: "ws_test" });
  });

  it("find the connection of an exhausted inbound message by its app_id", async () => {
    const connection = await seedConnection({ appId: "app_dlq" });
    const batch = createMessageBatch("intercom-inbound-dlq", [
      {
        id: "msg-in-1",
        timestamp: new Date(),
        attempts: 1,
        body: { app_id: "app_dlq", received_at: 1, notification: {} },
      },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    await getQueueResult(batch, ctx);
    const row = await env.DB.prepare(
      "SELECT queue, connection_id FROM dead_letters WHERE message_id = 'msg-in-1'",
    ).first();
    expect(row).toEqual({ queue: "intercom-inbound", connection_id: connection.id });
  });

  it("keep a message whose owner is unknown, with no connection", async () => {
    const batch = createMessageBatch("intercom-inbound-dlq", [
      { id: "msg-in-2", timestamp: new Date(), attempts: 1, body: { app_id: "app_nobody" } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    await getQueueResult(batch, ctx);
    const row = await env.DB.prepare("SELECT connection_id FROM dead_letters WHERE message_id = 'msg-in-2'").first();
    expect(row).toEqual({ connection_id: null });
  });
});
