import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../src/db/client";
import worker from "../src/index";
import { processNotification } from "../src/source/process";
import type { SourceConnection, SourceNotification } from "../src/source/work";
import { seedConnection } from "./helpers/connections";
import { fixture, type Item, intercomId, syncLogsOf } from "./helpers/webhooks";

const db = database(env.DB);

async function connection(): Promise<SourceConnection> {
  const row = await seedConnection({ workspaceId: `ws_${crypto.randomUUID().slice(0, 8)}` });
  return {
    id: row.id,
    workspaceId: row.workspaceId,
    appId: row.appId,
    source: row.source,
    destination: row.destination,
  };
}

function note(topic: string, item: Record<string, unknown>, id = `notif_${crypto.randomUUID()}`): SourceNotification {
  return { id, topic, created_at: 1772450000, item };
}

async function consume(body: unknown, attempts = 1) {
  const batch = createMessageBatch("intercom-inbound", [
    { id: `msg-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

/** The users table as the test sees it. */
async function usersOf(workspaceId: string) {
  const { results } = await env.DB.prepare("SELECT user_id, email, properties FROM users WHERE workspace_id = ?")
    .bind(workspaceId)
    .all();
  return results.map((row) => ({ ...row, properties: JSON.parse(row.properties as string) }));
}

describe("the queue consumer", () => {
  it("retries a message it cannot read (messages outlive deploys) and logs the failure", async () => {
    const result = await consume({ app_id: "app_x", notification: { topic: "contact.user.created" } });
    expect(result.retryMessages).toHaveLength(1);
    expect(result.explicitAcks).toEqual([]);
    const row = await env.DB.prepare(
      "SELECT * FROM sync_logs WHERE outcome = 'failed' AND detail LIKE 'unexpected payload shape%'",
    ).first();
    expect(row).toMatchObject({ direction: "in", connection_id: null });
    expect(row!.detail).toMatch(/attempt 1, retrying in 10s$/);
  });

  it("retries a notification whose processing throws, with backoff, and names the connection", async () => {
    const c = await connection();
    const body = {
      received_at: 1,
      app_id: c.appId,
      notification: note("contact.user.created", { type: "contact", email: "no-id@example.com" }),
    };
    const result = await consume(body, 3);
    expect(result.retryMessages).toHaveLength(1);
    const rows = await syncLogsOf(c.id);
    expect(rows).toMatchObject([
      {
        outcome: "failed",
        action: "contact.user.created",
        detail: "unexpected payload shape at id; attempt 3, retrying in 90s",
      },
    ]);
    // The failure's log carries no payload data.
    expect(JSON.stringify(rows)).not.toContain("no-id@example.com");
  });

  it("acknowledges what it skips (unknown app) and what it processes", async () => {
    const c = await connection();
    const skipped = await consume({
      received_at: 1,
      app_id: "app_nobody_here",
      notification: note("company.created", fixture("company.created").data.item),
    });
    const processed = await consume({
      received_at: 1,
      app_id: c.appId,
      notification: note("company.created", fixture("company.created").data.item),
    });
    expect(skipped.explicitAcks).toHaveLength(1);
    expect(processed.explicitAcks).toHaveLength(1);
    expect(await syncLogsOf(c.id)).toMatchObject([
      { outcome: "captured", object_type: "account", object_id: "acct-northwind" },
    ]);
  });
});

describe("processNotification", () => {
  it("takes REST items of the reconciliation sweep (Unix-second times, plan object)", async () => {
    const c = await connection();
    const contactId = intercomId();
    const restContact = {
      type: "contact",
      id: contactId,
      external_id: "rest-user-1",
      role: "user",
      email: "Rest@Example.com",
      name: "Rest User",
      phone: null,
      signed_up_at: 1772442000,
      created_at: 1772442000,
      updated_at: 1772443000,
      custom_attributes: { tier: "gold" },
    };
    const restCompany = {
      type: "company",
      id: intercomId(),
      company_id: "rest-acct",
      name: "Rest Co",
      plan: { type: "plan", id: "1", name: "Enterprise" },
      monthly_spend: 300,
      remote_created_at: 1769900000,
      created_at: 1772442000,
      updated_at: 1772443000,
      custom_attributes: {},
    };
    const contactEntries = await processNotification(db, c, note("contact.user.updated", restContact), "sweep");
    await processNotification(db, c, note("company.updated", restCompany), "sweep");
    expect(contactEntries).toMatchObject([
      { outcome: "captured", objectId: "rest-user-1", detail: "created from Intercom [sweep]" },
    ]);
    expect(await usersOf(c.workspaceId)).toEqual([
      {
        user_id: "rest-user-1",
        email: "rest@example.com",
        properties: { full_name: "Rest User", registered_at: "2026-03-02T09:00:00.000Z", tier: "gold", role: "user" },
      },
    ]);
    const account = await env.DB.prepare("SELECT name, properties FROM accounts WHERE workspace_id = ?")
      .bind(c.workspaceId)
      .first();
    expect(account).toEqual({
      name: "Rest Co",
      properties: JSON.stringify({ plan: "Enterprise", mrr: 300, registered_at: "2026-01-31T22:53:20.000Z" }),
    });

    // The webhook copy of the same second (ms precision) is not older; an earlier second is.
    const sameSecond = await processNotification(
      db,
      c,
      note("contact.user.updated", { ...restContact, updated_at: "2026-03-02T09:16:40.700+00:00" }),
      "webhook",
    );
    expect(sameSecond[0]).toMatchObject({ outcome: "skipped", detail: "echo of our own write" });
    const older = await processNotification(
      db,
      c,
      note("contact.user.updated", { ...restContact, name: "Old", updated_at: 1772442999 }),
      "sweep",
    );
    expect(older[0]).toMatchObject({ outcome: "stale" });
  });

  it("processes a notification once even when two deliveries race: the loser's batch fails, its retry is a duplicate", async () => {
    const c = await connection();
    const notification = note("contact.user.created", {
      ...fixture("contact.user.created").data.item,
      id: intercomId(),
    });
    const results = await Promise.allSettled([
      processNotification(db, c, notification, "webhook"),
      processNotification(db, c, notification, "webhook"),
    ]);
    expect(results.some((result) => result.status === "fulfilled")).toBe(true);
    for (const result of results) {
      // The loser (if the two really overlapped) fails on the idempotency key, before anything else in its batch.
      if (result.status === "rejected") expect(String(result.reason)).toContain("processed_notifications");
    }
    const retry = await processNotification(db, c, notification, "webhook");
    expect(retry).toMatchObject([{ outcome: "duplicate" }]);
    const rows = await syncLogsOf(c.id);
    expect(rows.filter((row) => row.outcome === "captured")).toHaveLength(1);
    expect(await usersOf(c.workspaceId)).toHaveLength(1);
    const links = await env.DB.prepare("SELECT count(*) AS n FROM intercom_links WHERE connection_id = ?")
      .bind(c.id)
      .first();
    expect(links).toEqual({ n: 1 });
  });

  it("a re-run after the batch failed (the user write had landed) is harmless", async () => {
    const c = await connection();
    const failingBatch = new Proxy(env.DB, {
      get(target, property) {
        // Only the notification's own batch fails (it starts with the idempotency key); the user write lands.
        if (property === "batch") {
          return (statements: D1PreparedStatement[]) =>
            String((statements[0] as unknown as { statement?: string }).statement).includes("processed_notifications")
              ? Promise.reject(new Error("D1 is having a moment"))
              : target.batch(statements);
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const notification = note("contact.user.created", {
      ...fixture("contact.user.created").data.item,
      id: intercomId(),
    });
    await expect(processNotification(database(failingBatch), c, notification, "webhook")).rejects.toThrow(
      "D1 is having a moment",
    );
    // The compare-and-set write happened, nothing else did.
    expect(await usersOf(c.workspaceId)).toHaveLength(1);
    expect(await syncLogsOf(c.id)).toEqual([]);

    const rerun = await processNotification(db, c, notification, "webhook");
    expect(rerun).toMatchObject([
      {
        outcome: "captured",
        detail:
          "no change in the CDP (Intercom changed email, external_id, role, name, phone, signed_up_at, custom_attributes.seats, custom_attributes.beta_tester)",
      },
    ]);
    expect(await usersOf(c.workspaceId)).toEqual([
      {
        user_id: "cdp-user-2041",
        email: "jamie.rivera@example.com",
        properties: {
          full_name: "Jamie Rivera",
          phone: "+14155550142",
          registered_at: "2026-03-02T09:00:00.000Z",
          seats: 12,
          beta_tester: true,
          role: "user",
        },
      },
    ]);
    expect(await processNotification(db, c, notification, "webhook")).toMatchObject([{ outcome: "duplicate" }]);
  });

  it("creates the user of an event that arrives before its contact (by email only), and the contact fills it in", async () => {
    const c = await connection();
    const contactId = intercomId();
    const event = { ...fixture("event.created").data.item, intercom_user_id: contactId };
    const entries = await processNotification(db, c, note("event.created", event), "webhook");
    expect(entries.map((entry) => `${entry.objectType}:${entry.outcome}`)).toEqual(["user:captured", "event:captured"]);
    // The event's user_id might be a lead's UUID: the early user is created from the email, not from it.
    expect(await usersOf(c.workspaceId)).toMatchObject([{ user_id: null, email: "jamie.rivera@example.com" }]);
    await processNotification(
      db,
      c,
      note("contact.user.created", { ...fixture("contact.user.created").data.item, id: contactId }),
      "webhook",
    );
    expect(await usersOf(c.workspaceId)).toMatchObject([
      { user_id: "cdp-user-2041", email: "jamie.rivera@example.com", properties: { full_name: "Jamie Rivera" } },
    ]);
  });

  it("does not hand a lead the link of a user who shares its email", async () => {
    const c = await connection();
    const userContact: Item = { ...fixture("contact.user.created").data.item, id: intercomId() };
    const lead = {
      ...fixture("contact.lead.created").data.item,
      id: intercomId(),
      email: userContact.email,
      name: "Someone Else",
    };
    await processNotification(db, c, note("contact.user.created", userContact), "webhook");
    const entries = await processNotification(db, c, note("contact.lead.created", lead), "webhook");
    expect(entries).toMatchObject([
      { outcome: "skipped", detail: `matches a CDP user already linked to Intercom contact ${userContact.id}` },
    ]);
    expect(await usersOf(c.workspaceId)).toMatchObject([{ properties: { full_name: "Jamie Rivera" } }]);
  });
});
