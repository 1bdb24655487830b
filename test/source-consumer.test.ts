import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../src/db/client";
import worker from "../src/index";
import { processNotification } from "../src/source/process";
import type { SourceConnection, SourceNotification } from "../src/source/work";
import { D1Counter } from "./bench/counting-d1";
import { seedConnection } from "./helpers/connections";
import { fixture, type Item, intercomId, syncLogCountsOf, syncLogsOf } from "./helpers/webhooks";

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

/** Consumes `bodies` as one queue batch (first attempts), against `testEnv`. */
async function consumeBatch(bodies: unknown[], testEnv: typeof env = env) {
  const batch = createMessageBatch(
    "intercom-inbound",
    bodies.map((body, i) => ({ id: `msg-${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, testEnv, ctx);
  return getQueueResult(batch, ctx);
}

/** The users table as the test sees it. */
async function usersOf(workspaceId: string) {
  const { results } = await env.DB.prepare("SELECT user_id, email, properties FROM users WHERE workspace_id = ?")
    .bind(workspaceId)
    .all<{ user_id: string | null; email: string | null; properties: string }>();
  return results.map((row) => ({ ...row, properties: JSON.parse(row.properties) }));
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

describe("a queue batch", () => {
  const contactNote = (id: string, edit: (item: Item) => void = () => {}, notificationId?: string) => {
    const item: Item = { ...fixture("contact.user.created").data.item, id };
    edit(item);
    return note("contact.user.updated", item, notificationId);
  };

  it("captures a notification once when the batch holds it three times: the others are duplicates", async () => {
    const c = await connection();
    const body = { received_at: 1, app_id: c.appId, notification: contactNote(intercomId()) };
    const result = await consumeBatch([body, body, body]);
    expect(result.explicitAcks).toHaveLength(3);
    expect(result.retryMessages).toEqual([]);
    expect((await syncLogsOf(c.id)).map((row) => row.outcome)).toEqual(["captured"]);
    expect(await syncLogCountsOf(c.id)).toMatchObject({ "in.duplicate": 2 });
    expect(await usersOf(c.workspaceId)).toHaveLength(1);
    // A redelivery in a later batch is a duplicate too.
    expect((await consumeBatch([body])).explicitAcks).toHaveLength(1);
    expect(await syncLogCountsOf(c.id)).toMatchObject({ "in.duplicate": 3 });
  });

  it("applies two updates of one contact in one batch in order, the second against the first's result", async () => {
    const c = await connection();
    const id = intercomId();
    const first = contactNote(id, (item) => {
      item.name = "First Name";
      item.updated_at = "2026-03-02T09:00:00Z";
    });
    const second = contactNote(id, (item) => {
      item.name = "Second Name";
      item.updated_at = "2026-03-02T09:05:00Z";
    });
    const result = await consumeBatch(
      [first, second].map((n) => ({ received_at: 1, app_id: c.appId, notification: n })),
    );
    expect(result.explicitAcks).toHaveLength(2);
    expect((await syncLogsOf(c.id)).map((row) => [row.outcome, row.detail])).toEqual([
      ["captured", "created from Intercom"],
      ["captured", "updated name"],
    ]);
    expect(await usersOf(c.workspaceId)).toMatchObject([{ properties: { full_name: "Second Name" } }]);
    // The older one after the newer, in one batch: stale, whichever order the batch holds them in.
    const older = contactNote(id, (item) => {
      item.name = "Older";
      item.updated_at = "2026-03-02T09:01:00Z";
    });
    await consumeBatch([{ received_at: 1, app_id: c.appId, notification: older }]);
    expect((await syncLogsOf(c.id)).at(-1)).toMatchObject({ outcome: "stale" });
    expect(await usersOf(c.workspaceId)).toMatchObject([{ properties: { full_name: "Second Name" } }]);
  });

  it("retries only the poisoned message of a batch; the good ones around it are captured and acknowledged", async () => {
    const c = await connection();
    const good = [0, 1, 2].map((i) =>
      contactNote(intercomId(), (item) => {
        item.email = `good${i}@example.com`;
        item.external_id = `good-${i}`;
      }),
    );
    const poisoned = note("contact.user.created", { type: "contact", email: "poison@example.com" });
    const messages = [good[0], poisoned, good[1], good[2]].map((n) => ({
      received_at: 1,
      app_id: c.appId,
      notification: n,
    }));
    const result = await consumeBatch(messages);
    expect(result.retryMessages).toHaveLength(1);
    expect(result.explicitAcks).toHaveLength(3);
    const rows = await syncLogsOf(c.id);
    expect(rows.map((row) => row.outcome).sort()).toEqual(["captured", "captured", "captured", "failed"]);
    expect((await usersOf(c.workspaceId)).map((user) => user.user_id).sort()).toEqual(["good-0", "good-1", "good-2"]);
  });

  it("falls back to one commit per message when the joined commit fails: a racing duplicate is `duplicate`, the rest land", async () => {
    const c = await connection();
    const notes = [0, 1, 2].map((i) =>
      contactNote(intercomId(), (item) => {
        item.email = `race${i}@example.com`;
        item.external_id = `race-${i}`;
      }),
    );
    let raced = false;
    // Another delivery of the second notification commits between this batch's bulk read and its joined commit.
    const racing = new Proxy(env.DB, {
      get(target, property) {
        if (property === "batch") {
          return async (statements: D1PreparedStatement[]) => {
            if (!raced && statements.length > 10) {
              raced = true;
              await target
                .prepare("INSERT INTO processed_notifications (key, processed_at) VALUES (?, ?)")
                .bind(`${c.appId}:${notes[1]!.id}`, Date.now())
                .run();
            }
            return target.batch(statements);
          };
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const result = await consumeBatch(
      notes.map((n) => ({ received_at: 1, app_id: c.appId, notification: n })),
      { ...env, DB: racing },
    );
    expect(raced).toBe(true);
    expect(result.explicitAcks).toHaveLength(3);
    expect(result.retryMessages).toEqual([]);
    expect((await syncLogsOf(c.id)).map((row) => row.object_id)).toEqual(["race-0", "race-2"]);
    expect(await syncLogCountsOf(c.id)).toMatchObject({ "in.duplicate": 1 });
  });

  it("costs few D1 round trips per notification at the configured batch size (25)", async () => {
    const c = await connection();
    const contacts = Array.from({ length: 25 }, (_, i) => ({ id: intercomId(), email: `rt${i}@example.com` }));
    const contactBody = (i: number, name: string) => ({
      received_at: 1,
      app_id: c.appId,
      notification: contactNote(contacts[i]!.id, (item) => {
        item.email = contacts[i]!.email;
        item.external_id = `rt-${i}`;
        item.name = name;
        item.updated_at = new Date(Date.parse("2026-03-02T09:00:00Z") + name.length * 1000).toISOString();
      }),
    });
    const measure = async (bodies: unknown[]) => {
      const counter = new D1Counter(env.DB);
      const result = await consumeBatch(bodies, { ...env, DB: counter.db });
      expect(result.explicitAcks).toHaveLength(bodies.length);
      return counter.snapshot().roundTrips;
    };
    // 25 new contacts; then 10 updates of them and 15 events of the others (distinct objects: one joined commit).
    const created = await measure(contacts.map((_, i) => contactBody(i, "First")));
    const mixed = await measure([
      ...contacts.slice(0, 10).map((_, i) => contactBody(i, "Second name")),
      ...contacts.slice(10).map((contact, i) => ({
        received_at: 1,
        app_id: c.appId,
        notification: note("event.created", {
          ...fixture("event.created").data.item,
          id: crypto.randomUUID(),
          intercom_user_id: contact.id,
          user_id: `rt-${i + 10}`,
          email: contact.email,
          created_at: 1772450000 + i,
        }),
      })),
    ]);
    console.log({ msg: "round trips of a batch of 25", created, mixed });
    expect((await syncLogsOf(c.id)).filter((row) => row.outcome === "captured")).toHaveLength(50);
    // Measured 36 and 20 when written; one at a time these were ~6 per notification (150 a batch).
    expect(created).toBeLessThanOrEqual(ROUND_TRIPS.created);
    expect(mixed).toBeLessThanOrEqual(ROUND_TRIPS.mixed);
  });
});

/** Round trips of the batches above as measured when written, with a little headroom. */
const ROUND_TRIPS = { created: 40, mixed: 25 };

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
