import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../src/db/client";
import { IMPORT_COMPANIES_FIELD } from "../src/source/capture/import-memberships";
import { eventNotifications } from "../src/source/import/parts";
import { processNotification } from "../src/source/process";
import type { SourceConnection, SourceNotification } from "../src/source/work";
import {
  deliver,
  deliverAndWait,
  fixture,
  intercomId,
  notification,
  sourceWorkspace,
  syncLogCountsOf,
  syncLogsOf,
  waitFor,
  waitForLogs,
} from "./helpers/webhooks";

// End to end: signed webhook → real route → INBOUND queue → source consumer → D1, read back through the read API.
// Every test has its own workspace and connection, so they run concurrently.

/** A fresh Intercom contact/company pair, and the edit that puts it into an attach/detach fixture. */
function newPair() {
  const contactId = intercomId();
  const companyId = intercomId();
  const edit = (item: Record<string, any>) => {
    item.contact.id = contactId;
    item.company.id = companyId;
  };
  return { contactId, companyId, edit };
}

describe.concurrent("each source setting, on", () => {
  it("create_users_from_contacts: a user contact lands as a user, and its updates follow", async () => {
    const ws = await sourceWorkspace({
      destination: {
        mappings: {
          contact: [{ from: "licensed_seats", to: "custom_attributes.seats", type: "integer" }],
          company: [],
        },
      },
    });
    const contactId = intercomId();
    const created = await deliverAndWait(
      ws.connection.id,
      notification("contact.user.created", { appId: ws.appId, edit: (item) => void (item.id = contactId) }),
    );
    expect(created).toMatchObject([
      { outcome: "captured", object_type: "user", object_id: "cdp-user-2041", intercom_id: contactId },
    ]);
    const user = await ws.lookup({ user_id: "cdp-user-2041" });
    expect(user).toMatchObject({
      status: 200,
      body: {
        user_id: "cdp-user-2041",
        email: "jamie.rivera@example.com",
        properties: {
          full_name: "Jamie Rivera",
          phone: "+14155550142",
          registered_at: "2026-03-02T09:00:00.000Z",
          role: "user",
          licensed_seats: 12,
          beta_tester: true,
        },
        segments: [],
        account_ids: [],
        intercom_contact_id: contactId,
      },
    });

    await deliverAndWait(
      ws.connection.id,
      notification("contact.user.updated", { appId: ws.appId, edit: (item) => void (item.id = contactId) }),
    );
    const updated = await ws.lookup({ email: "JAMIE.RIVERA@example.com" });
    expect(updated.body.properties).toMatchObject({
      full_name: "Jamie R. Rivera",
      phone: "+14155550199",
      licensed_seats: 15,
    });

    await deliverAndWait(
      ws.connection.id,
      notification("contact.email.updated", { appId: ws.appId, edit: (item) => void (item.id = contactId) }),
    );
    expect((await ws.lookup({ user_id: "cdp-user-2041" })).body.email).toBe("jamie@rivera.example");
  });

  it("create_users_from_contacts: a lead lands by email (its UUID external_id is not a user_id), then signs up", async () => {
    const ws = await sourceWorkspace();
    const leadId = intercomId();
    const asLead = (item: Record<string, unknown>) => void (item.id = leadId);
    await deliverAndWait(ws.connection.id, notification("contact.lead.created", { appId: ws.appId, edit: asLead }));
    const lead = await ws.lookup({ email: "visitor.lee@example.org" });
    expect(lead.body).toMatchObject({
      user_id: null,
      properties: { full_name: "Sam Lee", role: "lead" },
      intercom_contact_id: leadId,
    });
    expect((await ws.lookup({ user_id: "4f1d2c3b-8a9e-4c7d-b6a5-0e1f2a3b4c5d" })).status).toBe(404);

    await deliverAndWait(ws.connection.id, notification("contact.lead.updated", { appId: ws.appId, edit: asLead }));
    await deliverAndWait(ws.connection.id, notification("contact.lead.added_email", { appId: ws.appId, edit: asLead }));
    expect((await ws.lookup({ email: "sam.lee@example.org" })).body.properties.full_name).toBe("Sam T. Lee");

    await deliverAndWait(ws.connection.id, notification("contact.lead.signed_up", { appId: ws.appId, edit: asLead }));
    const signedUp = await ws.lookup({ user_id: "cdp-user-3307" });
    expect(signedUp.body).toMatchObject({
      user_id: "cdp-user-3307",
      email: "sam.lee@example.org",
      properties: { role: "user" },
      intercom_contact_id: leadId,
    });
  });

  it("create_accounts_from_companies: a company lands as an account, and its updates follow", async () => {
    const ws = await sourceWorkspace({
      destination: {
        mappings: { contact: [], company: [{ from: "health", to: "custom_attributes.health_score", type: "float" }] },
      },
    });
    const companyId = intercomId();
    const accountId = `acct-${companyId}`;
    const edit = (item: Record<string, unknown>) => Object.assign(item, { id: companyId, company_id: accountId });
    await deliverAndWait(ws.connection.id, notification("company.created", { appId: ws.appId, edit }));
    expect(await ws.account(accountId)).toMatchObject({
      status: 200,
      body: {
        account_id: accountId,
        name: "Northwind Traders",
        properties: {
          plan: "Growth",
          mrr: 1499,
          registered_at: "2026-01-31T22:53:20.000Z",
          region: "EMEA",
          health: 0.82,
        },
        user_ids: [],
        intercom_company_id: companyId,
      },
    });
    // The update's plan is `{}`: the plan was removed in Intercom.
    await deliverAndWait(ws.connection.id, notification("company.updated", { appId: ws.appId, edit }));
    const updated = await ws.account(accountId);
    expect(updated.body.name).toBe("Northwind Traders Ltd");
    expect(updated.body.properties).toEqual({
      mrr: 1899,
      registered_at: "2026-01-31T22:53:20.000Z",
      region: "EMEA",
      health: 0.91,
    });
  });

  it("capture_relationships: attach creates both sides when allowed and links them; detach unlinks", async () => {
    const ws = await sourceWorkspace();
    const { companyId, edit } = newPair();
    const rows = await deliverAndWait(
      ws.connection.id,
      notification("company.contact.attached", { appId: ws.appId, edit }),
    );
    expect(rows.map((row) => `${row.object_type}:${row.outcome}`).sort()).toEqual([
      "account:captured",
      "membership:captured",
      "user:captured",
    ]);
    expect((await ws.lookup({ user_id: "cdp-user-2041" })).body.account_ids).toEqual(["acct-northwind"]);
    expect((await ws.account("acct-northwind")).body).toMatchObject({
      user_ids: ["cdp-user-2041"],
      intercom_company_id: companyId,
    });
    // The attachment's company has no `plan` (only plan_id): no plan is invented.
    expect((await ws.account("acct-northwind")).body.properties).not.toHaveProperty("plan");

    await deliverAndWait(ws.connection.id, notification("company.contact.detached", { appId: ws.appId, edit }));
    expect((await ws.lookup({ user_id: "cdp-user-2041" })).body.account_ids).toEqual([]);
    expect((await ws.account("acct-northwind")).body.user_ids).toEqual([]);
  });

  it("capture_chat_events: a contact-started conversation is two events at the conversation's time", async () => {
    const ws = await sourceWorkspace();
    const contactId = intercomId();
    await deliverAndWait(
      ws.connection.id,
      notification("contact.user.created", { appId: ws.appId, edit: (item) => void (item.id = contactId) }),
    );
    const rows = await deliverAndWait(
      ws.connection.id,
      notification("conversation.user.created", {
        appId: ws.appId,
        edit: (item) => {
          item.contacts.contacts[0].id = contactId;
          item.source.author.id = contactId;
        },
      }),
    );
    expect(rows).toMatchObject([{ outcome: "captured", object_type: "event", object_id: "cdp-user-2041" }]);
    const events = await ws.events({ user_id: "cdp-user-2041" });
    expect(events.body.items.map((event: { name: string }) => event.name).sort()).toEqual([
      "Chat button clicked",
      "Chat started",
    ]);
    expect(events.body.items[0]).toMatchObject({
      occurred_at: new Date(1772446300 * 1000).toISOString(),
      source: "intercom",
      properties: { conversation_id: "215471993300412", intercom_contact_id: contactId },
    });
  });

  it("capture_chat_events: the pre-2.5 conversation model works too (the lead found by its link)", async () => {
    const ws = await sourceWorkspace();
    const leadId = intercomId();
    await deliverAndWait(
      ws.connection.id,
      notification("contact.lead.created", { appId: ws.appId, edit: (item) => void (item.id = leadId) }),
    );
    await deliverAndWait(
      ws.connection.id,
      notification("conversation.user.created.legacy", {
        appId: ws.appId,
        edit: (item) => void (item.user.id = leadId),
      }),
    );
    expect((await ws.events({ email: "visitor.lee@example.org" })).body.items).toHaveLength(2);
  });

  it("capture_user_events: a data event lands with its metadata", async () => {
    const ws = await sourceWorkspace();
    const contactId = intercomId();
    await deliverAndWait(
      ws.connection.id,
      notification("contact.user.created", { appId: ws.appId, edit: (item) => void (item.id = contactId) }),
    );
    await deliverAndWait(
      ws.connection.id,
      notification("event.created", { appId: ws.appId, edit: (item) => void (item.intercom_user_id = contactId) }),
    );
    expect((await ws.events({ user_id: "cdp-user-2041" })).body).toEqual({
      items: [
        {
          name: "exported-report",
          properties: { format: "csv", rows: 1200 },
          occurred_at: new Date(1772450000 * 1000).toISOString(),
          source: "intercom",
        },
      ],
      next_cursor: null,
    });
  });
});

describe.concurrent("each source setting, off: nothing lands and the log says why", () => {
  it("create_users_from_contacts off", async () => {
    const ws = await sourceWorkspace({ source: { create_users_from_contacts: false } });
    const rows = await deliverAndWait(ws.connection.id, notification("contact.user.created", { appId: ws.appId }));
    expect(rows).toMatchObject([
      { outcome: "skipped", object_type: "user", detail: "create_users_from_contacts is off" },
    ]);
    expect((await ws.lookup({ user_id: "cdp-user-2041" })).status).toBe(404);
  });

  it("create_accounts_from_companies off", async () => {
    const ws = await sourceWorkspace({ source: { create_accounts_from_companies: false } });
    const rows = await deliverAndWait(ws.connection.id, notification("company.created", { appId: ws.appId }));
    expect(rows).toMatchObject([
      { outcome: "skipped", object_type: "account", detail: "create_accounts_from_companies is off" },
    ]);
    expect((await ws.account("acct-northwind")).status).toBe(404);
  });

  it("capture_relationships off", async () => {
    const ws = await sourceWorkspace({ source: { capture_relationships: false } });
    await deliverAndWait(ws.connection.id, notification("contact.user.created", { appId: ws.appId }));
    await deliverAndWait(ws.connection.id, notification("company.created", { appId: ws.appId }));
    const rows = await deliverAndWait(ws.connection.id, notification("company.contact.attached", { appId: ws.appId }));
    expect(rows).toMatchObject([
      { outcome: "skipped", object_type: "membership", detail: "capture_relationships is off" },
    ]);
    expect((await ws.account("acct-northwind")).body.user_ids).toEqual([]);
  });

  it("capture_chat_events off", async () => {
    const ws = await sourceWorkspace({ source: { capture_chat_events: false } });
    await deliverAndWait(ws.connection.id, notification("contact.user.created", { appId: ws.appId }));
    const rows = await deliverAndWait(ws.connection.id, notification("conversation.user.created", { appId: ws.appId }));
    expect(rows).toMatchObject([{ outcome: "skipped", object_type: "event", detail: "capture_chat_events is off" }]);
    expect((await ws.events({ user_id: "cdp-user-2041" })).body.items).toEqual([]);
  });

  it("capture_user_events off", async () => {
    const ws = await sourceWorkspace({ source: { capture_user_events: false } });
    await deliverAndWait(ws.connection.id, notification("contact.user.created", { appId: ws.appId }));
    const rows = await deliverAndWait(ws.connection.id, notification("event.created", { appId: ws.appId }));
    expect(rows).toMatchObject([{ outcome: "skipped", object_type: "event", detail: "capture_user_events is off" }]);
    expect((await ws.events({ user_id: "cdp-user-2041" })).body.items).toEqual([]);
  });
});

describe.concurrent("idempotency, ordering, echoes", () => {
  it("the same notification delivered 3 times yields one user and one event", async () => {
    const ws = await sourceWorkspace();
    const contact = notification("contact.user.created", { appId: ws.appId });
    const event = notification("event.created", {
      appId: ws.appId,
      edit: (item) => void (item.intercom_user_id = contact.data.item.id),
    });
    // Duplicates are counted, not logged row by row.
    const duplicates = async (n: number) =>
      waitFor(async () => ((await syncLogCountsOf(ws.connection.id))["in.duplicate"] ?? 0) >= n || null, {
        what: `${n} duplicates counted`,
      });
    for (let i = 0; i < 3; i++) await deliver(contact);
    await waitForLogs(ws.connection.id, 1, "contact.user.created");
    await duplicates(2);
    for (let i = 0; i < 3; i++) await deliver(event);
    const rows = await waitForLogs(ws.connection.id, 1, "event.created");
    await duplicates(4);
    expect(rows.map((row) => `${row.action}:${row.outcome}`)).toEqual([
      "contact.user.created:captured",
      "event.created:captured",
    ]);
    expect(await syncLogCountsOf(ws.connection.id)).toEqual({ "in.duplicate": 4 });
    const { results } = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE workspace_id = ?")
      .bind(ws.workspaceId)
      .all();
    expect(results[0]).toEqual({ n: 1 });
    expect((await ws.events({ user_id: "cdp-user-2041" })).body.items).toHaveLength(1);
  });

  it("a detach stays the pair's newest operation: a late older attach and an older imported contact do not undo it", async () => {
    const ws = await sourceWorkspace();
    const { contactId, companyId, edit } = newPair();
    const at = (iso: string) => Date.parse(iso) / 1000;
    const attach = (createdAt: number) =>
      deliverAndWait(ws.connection.id, notification("company.contact.attached", { appId: ws.appId, edit, createdAt }));
    await attach(at("2026-11-30T10:00:00Z"));
    await deliverAndWait(
      ws.connection.id,
      notification("company.contact.detached", { appId: ws.appId, edit, createdAt: at("2026-11-30T12:00:00Z") }),
    );
    // Intercom delivers an attach of 11:00 late: the 12:00 detach wins.
    const late = await attach(at("2026-11-30T11:00:00Z"));
    expect(late).toMatchObject([
      { object_type: "membership", outcome: "captured", detail: expect.stringMatching(/^detached/) },
    ]);
    expect((await ws.lookup({ user_id: "cdp-user-2041" })).body.account_ids).toEqual([]);

    // An import read the contact (in the company) at 11:30, before the detach: its memberships change nothing.
    const contact = fixture("contact.user.updated").data.item;
    const imported: SourceNotification = {
      id: `import:contact:${contactId}`,
      topic: "contact.user.updated",
      created_at: at("2026-11-30T11:30:00Z"),
      item: {
        ...contact,
        id: contactId,
        updated_at: at("2026-11-30T11:30:00Z"),
        [IMPORT_COMPANIES_FIELD]: [companyId],
      },
    };
    const connection = ws.connection as unknown as SourceConnection;
    const entries = await processNotification(database(env.DB), connection, imported, "import");
    expect(entries[0]?.detail).toContain("1 left to a newer change");
    expect((await ws.lookup({ user_id: "cdp-user-2041" })).body.account_ids).toEqual([]);

    // A newer attach (13:00) lands, and clears the settled detach.
    await attach(at("2026-11-30T13:00:00Z"));
    expect((await ws.lookup({ user_id: "cdp-user-2041" })).body.account_ids).toEqual(["acct-northwind"]);
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM pending_links WHERE connection_id = ?")
      .bind(ws.connection.id)
      .first<{ n: number }>())!;
    expect(n).toBe(0);
  });

  it("an imported event of a user contact without email lands before its contact does, and the contact then fills the user in", async () => {
    const ws = await sourceWorkspace();
    const connection = ws.connection as unknown as SourceConnection;
    const db = database(env.DB);
    const contact = {
      ...fixture("contact.user.created").data.item,
      id: intercomId(),
      external_id: "u-no-email",
      email: null,
    };
    const [event] = eventNotifications(
      ws.appId,
      "job1",
      contact,
      [{ event_name: "paid", created_at: 1_764_000_000 }],
      0,
    ).messages;
    const eventEntries = await processNotification(db, connection, event!.notification, "sweep");
    expect(eventEntries.map((entry) => `${entry.objectType}:${entry.outcome}`)).toEqual([
      "user:captured",
      "event:captured",
    ]);
    const contactEntries = await processNotification(
      db,
      connection,
      { id: `notif_${crypto.randomUUID()}`, topic: "contact.user.created", created_at: 1_764_000_100, item: contact },
      "sweep",
    );
    expect(contactEntries).toMatchObject([{ objectType: "user", outcome: "captured", objectId: "u-no-email" }]);
    const { body } = await ws.lookup({ user_id: "u-no-email" });
    expect(body).toMatchObject({ user_id: "u-no-email", properties: { full_name: "Jamie Rivera" } });
    expect((await ws.events({ user_id: "u-no-email" })).body.items).toMatchObject([{ name: "paid" }]);
  });

  it("an older update after a newer one changes nothing (stale)", async () => {
    const ws = await sourceWorkspace();
    const contactId = intercomId();
    await deliverAndWait(
      ws.connection.id,
      notification("contact.user.updated", { appId: ws.appId, edit: (item) => void (item.id = contactId) }),
    );
    // contact.user.created carries the older state (updated_at 09:14 < 10:01).
    const rows = await deliverAndWait(
      ws.connection.id,
      notification("contact.user.created", { appId: ws.appId, edit: (item) => void (item.id = contactId) }),
    );
    expect(rows).toMatchObject([{ outcome: "stale", object_id: "cdp-user-2041" }]);
    expect((await ws.lookup({ user_id: "cdp-user-2041" })).body.properties).toMatchObject({
      full_name: "Jamie R. Rivera",
      phone: "+14155550199",
    });
  });

  it("an echo of our own write (item equal to the link's remote state) changes nothing in the CDP", async () => {
    const ws = await sourceWorkspace();
    const contactId = intercomId();
    await deliverAndWait(
      ws.connection.id,
      notification("contact.user.created", { appId: ws.appId, edit: (item) => void (item.id = contactId) }),
    );
    // The destination wrote name and phone to Intercom and recorded them; meanwhile the CDP moved on to newer values.
    await env.DB.prepare(
      `UPDATE intercom_links SET remote_state = json_set(remote_state, '$."name"', 'Jamie Q. Rivera', '$."phone"', '+14155550100')
       WHERE connection_id = ? AND intercom_id = ?`,
    )
      .bind(ws.connection.id, contactId)
      .run();
    await env.DB.prepare(
      `UPDATE users SET properties = json_set(properties, '$.full_name', 'Jamie Newest', '$.phone', '+14155550111') WHERE workspace_id = ?`,
    )
      .bind(ws.workspaceId)
      .run();
    const echo = notification("contact.user.updated", {
      appId: ws.appId,
      edit: (item) =>
        Object.assign(item, {
          id: contactId,
          name: "Jamie Q. Rivera",
          phone: "+14155550100",
          custom_attributes: { seats: 12, beta_tester: true },
        }),
    });
    const rows = await deliverAndWait(ws.connection.id, echo);
    expect(rows).toMatchObject([{ outcome: "skipped", detail: "echo of our own write" }]);
    expect((await ws.lookup({ user_id: "cdp-user-2041" })).body.properties).toMatchObject({
      full_name: "Jamie Newest",
      phone: "+14155550111",
    });

    // A change Intercom made itself (seats) lands; the echoed fields still do not.
    const partial = notification("contact.user.updated", {
      appId: ws.appId,
      edit: (item) =>
        Object.assign(item, {
          id: contactId,
          name: "Jamie Q. Rivera",
          phone: "+14155550100",
          updated_at: "2026-03-02T11:00:00.000+00:00",
          custom_attributes: { seats: 40, beta_tester: true },
        }),
    });
    expect(await deliverAndWait(ws.connection.id, partial)).toMatchObject([
      { outcome: "captured", detail: "updated custom_attributes.seats" },
    ]);
    expect((await ws.lookup({ user_id: "cdp-user-2041" })).body.properties).toMatchObject({
      full_name: "Jamie Newest",
      phone: "+14155550111",
      seats: 40,
    });
  });

  it("an event the connector triggered itself (actions.echo_key) is not captured", async () => {
    const ws = await sourceWorkspace();
    const contactId = intercomId();
    await deliverAndWait(
      ws.connection.id,
      notification("contact.user.created", { appId: ws.appId, edit: (item) => void (item.id = contactId) }),
    );
    const user = await env.DB.prepare("SELECT pk FROM users WHERE workspace_id = ?")
      .bind(ws.workspaceId)
      .first<{ pk: number }>();
    await env.DB.prepare(
      `INSERT INTO actions (id, workspace_id, connection_id, user_pk, type, payload, status, attempts, accepted_at, echo_key, updated_at)
       VALUES (?, ?, ?, ?, 'trigger_event', '{}', 'done', 1, 0, ?, 0)`,
    )
      .bind(
        crypto.randomUUID(),
        ws.workspaceId,
        ws.connection.id,
        user!.pk,
        `${ws.connection.id}:${contactId}:exported-report:1772450000`,
      )
      .run();
    const rows = await deliverAndWait(
      ws.connection.id,
      notification("event.created", { appId: ws.appId, edit: (item) => void (item.intercom_user_id = contactId) }),
    );
    expect(rows).toMatchObject([{ outcome: "skipped", object_type: "event", detail: "echo of our own event" }]);
    expect((await ws.events({ user_id: "cdp-user-2041" })).body.items).toEqual([]);
  });

  it("a contact with neither a user external_id nor an email is skipped, with the reason", async () => {
    const ws = await sourceWorkspace();
    const rows = await deliverAndWait(
      ws.connection.id,
      notification("contact.lead.created", { appId: ws.appId, edit: (item) => void (item.email = null) }),
    );
    expect(rows).toMatchObject([
      { outcome: "skipped", detail: "the contact has neither a user external_id nor an email" },
    ]);
    expect(await syncLogsOf(ws.connection.id)).toHaveLength(1);
  });
});
