import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runHousekeeping } from "../src/ops/housekeeping";

const DAY = 86_400_000;

describe("housekeeping", () => {
  it("expires idempotency keys after 7 days and relationships waiting for a missing side after 30", async () => {
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO processed_notifications (key, processed_at) VALUES ('app:old', ?), ('app:new', ?)",
      ).bind(now - 8 * DAY, now - DAY),
      env.DB.prepare(
        "INSERT INTO pending_links (connection_id, intercom_contact_id, intercom_company_id, op, occurred_at, created_at) VALUES ('c', 'x', 'old', 'attach', ?, ?), ('c', 'x', 'new', 'attach', ?, ?)",
      ).bind(now - 31 * DAY, now - 31 * DAY, now - DAY, now - DAY),
    ]);
    await runHousekeeping(env, now);
    const keys = await env.DB.prepare("SELECT key FROM processed_notifications").all<{ key: string }>();
    expect(keys.results.map((row) => row.key)).toEqual(["app:new"]);
    const pending = await env.DB.prepare("SELECT intercom_company_id FROM pending_links").all<{
      intercom_company_id: string;
    }>();
    expect(pending.results.map((row) => row.intercom_company_id)).toEqual(["new"]);
  });
});
