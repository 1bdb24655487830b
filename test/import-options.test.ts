import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DEFAULT_SOURCE_SETTINGS } from "../src/connections/defaults";
import { findConnectionById } from "../src/connections/repository";
import { database } from "../src/db/client";
import { importById } from "../src/source/import/jobs";
import {
  chatNotifications,
  embeddedIds,
  estimatedEventCalls,
  eventNotifications,
  tagsNotification,
} from "../src/source/import/parts";
import { afterPage, importOptions, phasesOf, skipPhase } from "../src/source/import/plan";
import { nextEventsQuery } from "../src/source/import/reads";
import { runImportPage, startImport } from "../src/source/import/run";
import { intercomRest, waitFor } from "./helpers/destination";
import { adminCall as call, connectImportSource, pageByPage, scalar } from "./helpers/imports";
import { countCalls, journalMark, useIntercomSim } from "./helpers/intercom-sim";

// The optional parts of a source import (README, "Import"): tags as `intercom_tags` (a tag list with `has_more`
// too), past conversations of a window as chat events, past data events with their cost stated before they run; a
// re-import creates nothing twice, a webhook of the same conversation or event neither; the source settings skip a
// phase with its reason; bad input is a 422 problem.

const sim = useIntercomSim({ config: { search_lag_ms: 0 } });
const connectSource = (source: Record<string, unknown> = {}) => connectImportSource(sim, source);
const DAY = 86_400;

const processed = (appId: string, pattern: string) =>
  scalar("SELECT count(*) AS n FROM processed_notifications WHERE key LIKE ?", `${appId}:${pattern}`);

/** Runs an import's pages one at a time in this test: the JOBS sends are kept instead of queued. */
async function runAll(runner: ReturnType<typeof pageByPage>) {
  while (runner.sent.length > 0) await runImportPage(runner.env, runner.sent.shift()!);
}

async function importDone(workspaceId: string, base: string, id: string) {
  return waitFor(
    async () => {
      const { json } = await call(workspaceId, "GET", `${base}/${id}`);
      return json.state === "done" ? json : null;
    },
    60_000,
    "the import done",
  );
}

/** A user contact with `external_id`, its webhooks dropped (it predates the connection). */
async function userContact(workspace: { token: string }, externalId: string, extra: Record<string, unknown> = {}) {
  const created = await intercomRest(workspace, "POST", "/contacts", { external_id: externalId, ...extra });
  expect(created.status).toBe(200);
  return created.json;
}

async function tag(workspace: { token: string }, contactId: string, names: string[]) {
  for (const name of names) {
    const created = await intercomRest(workspace, "POST", "/tags", { name });
    expect((await intercomRest(workspace, "POST", `/contacts/${contactId}/tags`, { id: created.json.id })).status).toBe(
      200,
    );
  }
}

const propertyOf = async (workspaceId: string, userId: string, property: string) => {
  const row = await env.DB.prepare(
    "SELECT json_extract(properties, '$.' || ?) AS value FROM users WHERE workspace_id = ? AND user_id = ?",
  )
    .bind(property, workspaceId, userId)
    .first<{ value: string | null }>();
  return row?.value === null || row?.value === undefined ? null : JSON.parse(row.value);
};

const eventRows = (workspaceId: string, name?: string) =>
  env.DB.prepare(
    "SELECT e.name AS name, e.occurred_at AS occurred_at, u.user_id AS user_id FROM events e JOIN users u ON u.pk = e.user_pk " +
      "WHERE e.workspace_id = ? AND (? IS NULL OR e.name = ?) ORDER BY e.occurred_at, e.name",
  )
    .bind(workspaceId, name ?? null, name ?? null)
    .all<{ name: string; occurred_at: number; user_id: string }>()
    .then((result) => result.results);

describe("import parts, pure", () => {
  it("plans the optional phases after the objects, skipped with a reason when their setting is off", () => {
    const options = importOptions({ objects: ["contacts"], conversationsSince: 1_700_000_000, events: true });
    const phases = phasesOf(options, { ...DEFAULT_SOURCE_SETTINGS, capture_chat_events: false });
    expect(phases.map((p) => [p.object, p.skipped_reason ?? null])).toEqual([
      ["contacts", null],
      ["conversations", "source.capture_chat_events is off"],
      ["events", null],
    ]);
    // The contacts phase ends: the skipped conversations phase is passed over.
    const next = afterPage(
      { phase: "contacts", cursor: null, phases },
      { read: 1, skipped: 0, failed: 0, calls: 1, total: 1, next: null },
    );
    expect(next.phase).toBe("events");
    // A setting turned off while the job ran: the phase is skipped there and then.
    const skipped = skipPhase(next, "source.capture_user_events is off");
    expect(skipped.phase).toBeNull();
    expect(skipped.phases[2]).toMatchObject({ total: 0, skipped_reason: "source.capture_user_events is off" });
  });

  it("builds tag, chat and event notifications whose ids make a second copy a duplicate", () => {
    const contact = { id: "c1", role: "user", external_id: "u1", email: "a@b.c", updated_at: 100 };
    const first = tagsNotification("app", contact, ["b", "a", "a"], 0);
    const again = tagsNotification("app", { ...contact, updated_at: 200 }, ["a", "b"], 1);
    expect(first.notification.id).toBe(again.notification.id);
    expect(first.notification.item.tags).toEqual(["a", "b"]);
    expect(tagsNotification("app", contact, ["a"], 0).notification.id).not.toBe(first.notification.id);
    expect(embeddedIds({ tags: { data: [{ id: 7 }, { id: "8" }], has_more: true } }, "tags")).toEqual({
      ids: ["7", "8"],
      hasMore: true,
    });

    const author = (type: string) => ({ delivered_as: "customer_initiated", author: { type, id: "c1" } });
    const page = chatNotifications(
      "app",
      "job",
      [
        { type: "conversation", id: "1", created_at: 1_000, source: author("user") },
        { type: "conversation", id: "2", created_at: 999, source: author("lead") },
        {
          type: "conversation",
          id: "3",
          created_at: 1_001,
          source: { ...author("admin"), delivered_as: "admin_initiated" },
        },
        { type: "conversation", id: "4", created_at: null },
      ],
      1_000,
      0,
    );
    expect(page.messages.map((m) => m.notification.id)).toEqual(["import:job:conversation:1"]);
    expect(page).toMatchObject({ outside: 1, notContact: 1, failedIds: ["4"] });

    const events = eventNotifications(
      "app",
      "job",
      contact,
      [{ event_name: "paid", created_at: 5, metadata: {} }, {}],
      0,
    );
    expect(events.unreadable).toBe(1);
    expect(events.messages[0]!.notification).toMatchObject({
      id: "import:job:event:c1:5:paid",
      topic: "event.created",
      item: { type: "event", intercom_user_id: "c1", user_id: "u1", email: "a@b.c", import_user_contact: true },
    });
    // A lead's `user_id` is an Intercom UUID, not the CDP's: its events do not say they may create a user by it.
    const lead = eventNotifications(
      "app",
      "job",
      { ...contact, role: "lead" },
      [{ event_name: "x", created_at: 5 }],
      0,
    );
    expect(lead.messages[0]!.notification.item).not.toHaveProperty("import_user_contact");
    expect(estimatedEventCalls(0)).toBe(1);
    expect(estimatedEventCalls(60)).toBe(63);
    expect(nextEventsQuery("https://api.intercom.io/events?type=user&intercom_user_id=x&per_page=2&before=9")).toEqual({
      per_page: "2",
      before: "9",
    });
    expect(nextEventsQuery(undefined)).toBeNull();
  });
});

describe("import with tags", () => {
  it("lands each contact's tag names as intercom_tags, a has_more list included, and twice changes nothing", async () => {
    const { workspace, workspaceId, connection, base } = await connectSource();
    const few = await userContact(workspace, "tags-few");
    const many = await userContact(workspace, "tags-many");
    await userContact(workspace, "tags-none");
    await tag(workspace, few.id, ["vip", "beta"]);
    // More than the 10 a contact embeds: the list has_more, and its names take one call of their own.
    const twelve = Array.from({ length: 12 }, (_, i) => `t${String(i).padStart(2, "0")}`);
    await tag(workspace, many.id, twelve);
    sim.takeWebhooks();
    expect(sim.state(workspace.app_id).contacts.find((c: any) => c.id === many.id)!.tags.has_more).toBe(true);

    const mark = journalMark(sim);
    const started = await call(workspaceId, "POST", base, { objects: ["contacts"], include_tags: true });
    expect(started.status).toBe(202);
    const done = await importDone(workspaceId, base, started.json.id);
    expect(done).toMatchObject({ include_tags: true, include_conversations: false, include_events: false });
    // One search, one GET /tags for the embedded ids' names, one GET /contacts/{id}/tags for the cut list.
    expect(done.phases).toEqual([{ object: "contacts", total: 3, done: 3, skipped: 0, failed: 0, calls: 3 }]);
    expect(countCalls(sim, { since: mark, path: "/tags" })).toBe(1);
    expect(countCalls(sim, { since: mark, path: `/contacts/${many.id}/tags` })).toBe(1);
    expect(countCalls(sim, { since: mark })).toBe(3);

    await waitFor(
      async () => (await propertyOf(workspaceId, "tags-many", "intercom_tags"))?.length === 12,
      30_000,
      "the tags captured",
    );
    expect(await propertyOf(workspaceId, "tags-few", "intercom_tags")).toEqual(["beta", "vip"]);
    expect(await propertyOf(workspaceId, "tags-many", "intercom_tags")).toEqual(twelve);
    await waitFor(async () => (await processed(workspace.app_id, "import:tags:%")) === 3, 30_000, "3 tag lists");
    // A contact without tags gets no property.
    expect(await propertyOf(workspaceId, "tags-none", "intercom_tags")).toBeNull();

    // Again: the same tag sets are duplicates, no user is written.
    const version = await scalar("SELECT max(version) AS n FROM users WHERE workspace_id = ?", workspaceId);
    const again = await call(workspaceId, "POST", base, { objects: ["contacts"], include_tags: true });
    await importDone(workspaceId, base, again.json.id);
    await waitFor(
      async () =>
        (await scalar(
          "SELECT coalesce(sum(n), 0) AS n FROM sync_log_counts WHERE connection_id = ? AND outcome = 'duplicate'",
          connection.id,
        )) >= 3,
      30_000,
      "the tag lists processed as duplicates",
    );
    expect(await scalar("SELECT max(version) AS n FROM users WHERE workspace_id = ?", workspaceId)).toBe(version);

    // A tag removed in Intercom is removed from the property by the next import.
    const beta = sim.state(workspace.app_id).tags.find((t: any) => t.name === "beta")!;
    expect((await intercomRest(workspace, "DELETE", `/contacts/${few.id}/tags/${beta.id}`)).status).toBe(200);
    sim.takeWebhooks();
    const third = await call(workspaceId, "POST", base, { objects: ["contacts"], include_tags: true });
    await importDone(workspaceId, base, third.json.id);
    await waitFor(
      async () => (await propertyOf(workspaceId, "tags-few", "intercom_tags"))?.length === 1,
      30_000,
      "the removed tag gone",
    );
    expect(await propertyOf(workspaceId, "tags-few", "intercom_tags")).toEqual(["vip"]);
  }, 120_000);
});

describe("import with conversations", () => {
  it("captures contact-initiated conversations of the window as chat events at their time, once", async () => {
    const { workspace, workspaceId, base } = await connectSource();
    const user = await userContact(workspace, "chat-user");
    const lead = (await intercomRest(workspace, "POST", "/contacts", { role: "lead", email: "lead@chat.test" })).json;
    sim.takeWebhooks();
    const now = Math.floor(Date.now() / 1000);
    const windowStart = now - 30 * DAY;
    const conversation = (contactId: string, createdAt: number) =>
      sim.emit({
        app_id: workspace.app_id,
        topic: "conversation.user.created",
        contact_id: contactId,
        created_at: createdAt,
      })!.data.item as { id: string };
    const inWindow = conversation(user.id, now - 10 * DAY);
    const ofLead = conversation(lead.id, now - 5 * DAY);
    // An hour before the window: Intercom's day-granular search returns it, the exact bound leaves it out.
    conversation(user.id, windowStart - 3_600);
    conversation(user.id, now - 100 * DAY);
    sim.takeWebhooks();
    // A recent conversation whose webhook the connector received: the import adds nothing to it.
    const live = conversation(user.id, now - 60);
    await sim.deliverWebhooks();
    await waitFor(async () => (await eventRows(workspaceId, "Chat started")).length === 1, 30_000, "the webhook chat");

    const mark = journalMark(sim);
    const started = await call(workspaceId, "POST", base, {
      objects: ["contacts"],
      include_conversations: true,
      conversations_since: new Date(windowStart * 1000).toISOString(),
    });
    expect(started.status).toBe(202);
    expect(started.json.phases.map((p: any) => p.object)).toEqual(["contacts", "conversations"]);
    const done = await importDone(workspaceId, base, started.json.id);
    expect(done.conversations_since).toBe(new Date(windowStart * 1000).toISOString());
    expect(done.phases[1]).toEqual({ object: "conversations", total: 4, done: 4, skipped: 1, failed: 0, calls: 1 });
    expect(countCalls(sim, { since: mark, path: "/conversations/search" })).toBe(1);

    await waitFor(
      async () => (await processed(workspace.app_id, "import:%:conversation:%")) === 3,
      30_000,
      "3 conversations processed",
    );
    const chats = await eventRows(workspaceId, "Chat started");
    // The webhook's, the one in the window, and the lead's (its user created from the email): none twice.
    expect(chats).toHaveLength(3);
    expect(chats.map((row) => row.occurred_at).sort()).toEqual(
      [now - 10 * DAY, now - 5 * DAY, now - 60].map((s) => s * 1000).sort(),
    );
    expect(await eventRows(workspaceId, "Chat button clicked")).toHaveLength(3);
    expect(
      await scalar(
        "SELECT count(*) AS n FROM events WHERE workspace_id = ? AND dedupe_key LIKE ?",
        workspaceId,
        `intercom:${workspace.app_id}:conversation:${inWindow.id}:%`,
      ),
    ).toBe(2);
    expect(ofLead.id).not.toBe(live.id);

    // A re-import with the default window (90 days): the conversation an hour before the first window is new, the
    // others create no second event; the 100-day-old one stays out.
    const again = await call(workspaceId, "POST", base, { objects: ["contacts"], include_conversations: true });
    const second = await importDone(workspaceId, base, again.json.id);
    expect(second.phases[1]).toMatchObject({ object: "conversations", total: 4, done: 4, skipped: 0 });
    await waitFor(async () => (await processed(workspace.app_id, "import:%:conversation:%")) === 7, 30_000, "4 more");
    expect(await eventRows(workspaceId, "Chat started")).toHaveLength(4);
    expect(await eventRows(workspaceId, "Chat button clicked")).toHaveLength(4);
  }, 120_000);
});

describe("import with events", () => {
  it("states its cost in calls before the events phase runs, then captures each user's events once", async () => {
    const { workspace, workspaceId, connection, base } = await connectSource();
    const first = await userContact(workspace, "ev-1", { email: "ev1@events.test" });
    const second = await userContact(workspace, "ev-2");
    const lead = (await intercomRest(workspace, "POST", "/contacts", { role: "lead", email: "lead@events.test" })).json;
    const now = Math.floor(Date.now() / 1000);
    const track = (body: Record<string, unknown>) => intercomRest(workspace, "POST", "/events", body);
    await track({ event_name: "paid", created_at: now - 3 * DAY, id: first.id, metadata: { plan: "pro" } });
    await track({ event_name: "invited", created_at: now - 2 * DAY, id: first.id });
    await track({ event_name: "paid", created_at: now - DAY, id: second.id });
    await track({ event_name: "visited", created_at: now - DAY, id: lead.id });
    // Older than the 90 days Intercom lists: not imported.
    await track({ event_name: "ancient", created_at: now - 120 * DAY, id: second.id });
    sim.takeWebhooks();
    // One event reached the connector by webhook already.
    await track({ event_name: "opened", created_at: now - 60, id: first.id });
    await sim.deliverWebhooks();
    await waitFor(async () => (await eventRows(workspaceId, "opened")).length === 1, 30_000, "the webhook event");

    // Started as the API starts it, its pages held here: the estimate is there before any event list is read.
    const connectionRow = (await findConnectionById(database(env.DB), connection.id))!;
    const runner = pageByPage();
    const mark = journalMark(sim);
    const result = await startImport(runner.env, connectionRow, importOptions({ objects: ["contacts"], events: true }));
    if (!result.ok) throw new Error("an import is already running");
    expect(countCalls(sim, { since: mark })).toBe(1);
    const before = await call(workspaceId, "GET", `${base}/${result.job.id}`);
    expect(before.json).toMatchObject({ state: "queued", include_events: true });
    expect(before.json.phases[1]).toEqual({
      object: "events",
      total: null,
      done: 0,
      skipped: 0,
      failed: 0,
      // The count of user contacts it was estimated from.
      calls: 1,
      estimated_calls: 3,
    });
    // The contacts page first, its contacts captured, then the events phase (users without an email are only found
    // once their contact is captured).
    await runImportPage(runner.env, runner.sent.shift()!);
    // Import items carry no idempotency key: the contacts are captured once their links exist.
    await waitFor(
      async () =>
        (await scalar(
          "SELECT count(*) AS n FROM intercom_links WHERE connection_id = ? AND object_type = 'contact'",
          connection.id,
        )) === 3,
      30_000,
      "the contacts captured",
    );
    await runAll(runner);
    const done = (await importById(database(env.DB), connection.id, result.job.id))!;
    expect(done.state).toBe("done");
    // Two users (the lead has no place in a user events import): one search, one events list each, as stated.
    expect(done.phases[1]).toEqual({
      object: "events",
      total: 2,
      done: 2,
      skipped: 0,
      failed: 0,
      calls: 1 + 3,
      estimated_calls: 3,
    });
    expect(countCalls(sim, { since: mark, path: "/events" })).toBe(2);
    expect(countCalls(sim, { since: mark })).toBe(done.phases[0]!.calls + done.phases[1]!.calls);

    await waitFor(async () => (await processed(workspace.app_id, "import:%:event:%")) === 4, 30_000, "4 events");
    const rows = await eventRows(workspaceId);
    expect(rows.map((row) => [row.user_id, row.name, row.occurred_at / 1000])).toEqual([
      ["ev-1", "paid", now - 3 * DAY],
      ["ev-1", "invited", now - 2 * DAY],
      ["ev-2", "paid", now - DAY],
      ["ev-1", "opened", now - 60],
    ]);

    // Again through the API: the 202 states the cost; nothing is created twice.
    const again = await call(workspaceId, "POST", base, { objects: ["contacts"], include_events: true });
    expect(again.status).toBe(202);
    expect(again.json.estimated_calls).toBe(3);
    await importDone(workspaceId, base, again.json.id);
    await waitFor(async () => (await processed(workspace.app_id, "import:%:event:%")) === 8, 30_000, "4 events again");
    expect(await eventRows(workspaceId)).toHaveLength(4);
  }, 120_000);

  it("skips a phase whose source setting is off, with the reason, and spends no call on it", async () => {
    const { workspace, workspaceId, base } = await connectSource({ capture_user_events: false });
    await userContact(workspace, "off-1");
    sim.takeWebhooks();
    const mark = journalMark(sim);
    const started = await call(workspaceId, "POST", base, {
      objects: ["contacts"],
      include_events: true,
      include_conversations: true,
    });
    expect(started.status).toBe(202);
    expect(started.json.estimated_calls).toBeNull();
    expect(started.json.phases[2]).toMatchObject({
      object: "events",
      total: 0,
      skipped_reason: "source.capture_user_events is off",
    });
    const done = await importDone(workspaceId, base, started.json.id);
    expect(done.phases.map((p: any) => [p.object, p.calls, p.skipped_reason ?? null])).toEqual([
      ["contacts", 1, null],
      ["conversations", 1, null],
      ["events", 0, "source.capture_user_events is off"],
    ]);
    expect(countCalls(sim, { since: mark })).toBe(2);
  });
});

describe("a setting or Intercom in the way", () => {
  it("skips the events phase when its setting is turned off after the start, and answers 502 when the count fails", async () => {
    const { workspace, workspaceId, connection, base } = await connectSource();
    await userContact(workspace, "late-off");
    sim.takeWebhooks();
    const connectionRow = (await findConnectionById(database(env.DB), connection.id))!;
    const runner = pageByPage();
    const mark = journalMark(sim);
    const result = await startImport(runner.env, connectionRow, importOptions({ objects: ["contacts"], events: true }));
    if (!result.ok) throw new Error("an import is already running");
    const patched = await call(workspaceId, "PATCH", `/v1/connections/${connection.id}`, {
      source: { capture_user_events: false },
    });
    expect(patched.status).toBe(200);
    await runAll(runner);
    const done = (await importById(database(env.DB), connection.id, result.job.id))!;
    expect(done.state).toBe("done");
    expect(done.phases[1]).toMatchObject({
      object: "events",
      done: 0,
      calls: 1,
      skipped_reason: "source.capture_user_events is off",
    });
    // The count, and the contacts page: no events call.
    expect(countCalls(sim, { since: mark })).toBe(2);
    expect(countCalls(sim, { since: mark, path: "/events" })).toBe(0);

    // The count of user contacts refused (a revoked token): nothing is queued, the answer says why.
    await call(workspaceId, "PATCH", `/v1/connections/${connection.id}`, { source: { capture_user_events: true } });
    sim.revokeTokens(workspace.app_id);
    const refused = await call(workspaceId, "POST", base, { include_events: true });
    expect(refused.status).toBe(502);
    expect(refused.type).toContain("application/problem+json");
    expect(refused.json.detail).toMatch(/states its cost before it starts/);
    expect((await call(workspaceId, "GET", base)).json.items).toHaveLength(1);
  });
});

describe("optional phases over several pages", () => {
  it("pages conversations and user contacts with their cursors recorded, and spends what it stated", async () => {
    const { workspace, connection } = await connectSource();
    sim.seedWideWorkspace(workspace.app_id, { contacts: 32, leads: 2, companies: 0, attributes: 1, seed: 21 });
    const users = sim.state(workspace.app_id).contacts.filter((c: any) => c.role === "user");
    expect(users).toHaveLength(30);
    const now = Math.floor(Date.now() / 1000);
    for (const [index, user] of users.entries()) {
      const tracked = await intercomRest(workspace, "POST", "/events", {
        event_name: "signed-in",
        created_at: now - DAY - index,
        id: user.id,
      });
      expect(tracked.status).toBe(202);
    }
    for (let i = 0; i < 160; i++) {
      sim.emit({
        app_id: workspace.app_id,
        topic: "conversation.user.created",
        contact_id: users[i % 5]!.id,
        created_at: now - 3_600 - i,
      });
    }
    sim.takeWebhooks();

    const connectionRow = (await findConnectionById(database(env.DB), connection.id))!;
    const runner = pageByPage();
    const mark = journalMark(sim);
    const options = importOptions({ objects: ["contacts"], conversationsSince: now - 7 * DAY, events: true });
    const result = await startImport(runner.env, connectionRow, options);
    if (!result.ok) throw new Error("an import is already running");
    // 30 users: 30 events lists and 2 pages of 25 users.
    expect(result.job.phases[2]).toMatchObject({ object: "events", estimated_calls: 32, calls: 1 });
    const db = database(env.DB);
    const cursors: Array<[string | null, string | null]> = [];
    while (runner.sent.length > 0) {
      await runImportPage(runner.env, runner.sent.shift()!);
      const job = (await importById(db, connection.id, result.job.id))!;
      cursors.push([job.phase, job.cursor]);
    }
    // contacts (1 page) → conversations (2 pages, a cursor after the first) → events (2 pages, likewise) → done.
    expect(cursors.map(([phase, cursor]) => [phase, cursor !== null])).toEqual([
      ["conversations", false],
      ["conversations", true],
      ["events", false],
      ["events", true],
      [null, false],
    ]);
    const done = (await importById(db, connection.id, result.job.id))!;
    expect(done.phases.slice(1)).toEqual([
      { object: "conversations", total: 160, done: 160, skipped: 0, failed: 0, calls: 2 },
      { object: "events", total: 30, done: 30, skipped: 0, failed: 0, calls: 1 + 32, estimated_calls: 32 },
    ]);
    expect(countCalls(sim, { since: mark })).toBe(1 + 1 + 2 + 32);
    await waitFor(
      async () => (await processed(workspace.app_id, "import:%:conversation:%")) === 160,
      60_000,
      "160 chats processed",
    );
    await waitFor(async () => (await processed(workspace.app_id, "import:%:event:%")) === 30, 60_000, "30 events");
    // One sync-log row per page, plus the start and the final summary.
    expect(
      await scalar("SELECT count(*) AS n FROM sync_logs WHERE connection_id = ? AND action = 'import'", connection.id),
    ).toBe(1 + 5 + 1);
  }, 120_000);
});

describe("start validation", () => {
  it("takes the flags, and answers bad input with a 422 problem naming the path", async () => {
    const { workspaceId, base } = await connectSource();
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const cases: Array<[unknown, string]> = [
      [{ include_tags: "yes" }, "include_tags"],
      [{ since: future }, "since"],
      [{ include_conversations: true, conversations_since: future }, "conversations_since"],
      [{ conversations_since: new Date().toISOString() }, "conversations_since"],
      [{ objects: ["companies"], include_tags: true }, "include_tags"],
      [{ include_everything: true }, ""],
    ];
    for (const [body, path] of cases) {
      const refused = await call(workspaceId, "POST", base, body);
      expect(refused.status, JSON.stringify(body)).toBe(422);
      expect(refused.type).toContain("application/problem+json");
      if (path) expect(refused.json.errors.map((e: any) => e.path)).toContain(path);
    }
    // The flags that were refused before are taken now.
    const started = await call(workspaceId, "POST", base, { include_tags: true });
    expect(started.status).toBe(202);
  });
});
