import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { MAX_WEBHOOK_BYTES } from "../src/api/intercom-webhook/route";
import {
  deliver,
  deliverAndWait,
  fixture,
  intercomId,
  notification,
  postWebhook,
  sign,
  sourceWorkspace,
  syncLogCountsOf,
  syncLogsOf,
  waitFor,
} from "./helpers/webhooks";

describe.concurrent("pending relationships", () => {
  it("an attach whose contact is not in the CDP waits, and lands when the contact is captured", async () => {
    const ws = await sourceWorkspace({ source: { create_users_from_contacts: false } });
    const contactId = intercomId();
    const companyId = intercomId();
    const rows = await deliverAndWait(
      ws.connection.id,
      notification("company.contact.attached", {
        appId: ws.appId,
        edit: (item) => {
          item.contact.id = contactId;
          item.company.id = companyId;
        },
      }),
    );
    expect(rows.map((row) => `${row.object_type}:${row.outcome}`).sort()).toEqual([
      "account:captured",
      "membership:pending",
    ]);
    expect(rows.find((row) => row.outcome === "pending")?.detail).toBe("attach waits until the contact is in the CDP");
    expect((await ws.account("acct-northwind")).body.user_ids).toEqual([]);

    await ws.setSource({ create_users_from_contacts: true });
    const captured = await deliverAndWait(
      ws.connection.id,
      notification("contact.user.created", { appId: ws.appId, edit: (item) => void (item.id = contactId) }),
    );
    expect(captured.map((row) => `${row.object_type}:${row.outcome}`)).toEqual([
      "user:captured",
      "membership:captured",
    ]);
    expect((await ws.account("acct-northwind")).body.user_ids).toEqual(["cdp-user-2041"]);
    const { results } = await env.DB.prepare("SELECT * FROM pending_links WHERE connection_id = ?")
      .bind(ws.connection.id)
      .all();
    expect(results).toEqual([]);
  });

  it("the newest operation of a waiting pair wins, whatever the delivery order", async () => {
    const ws = await sourceWorkspace({ source: { create_accounts_from_companies: false } });
    const contactId = intercomId();
    const companyId = intercomId();
    const edit = (item: Record<string, any>) => {
      item.contact.id = contactId;
      item.company.id = companyId;
    };
    // The detach (newer) arrives first, then the attach (older): the pair must end detached.
    await deliverAndWait(
      ws.connection.id,
      notification("company.contact.detached", { appId: ws.appId, createdAt: 1772900000, edit }),
    );
    await deliverAndWait(
      ws.connection.id,
      notification("company.contact.attached", { appId: ws.appId, createdAt: 1772800000, edit }),
    );
    await ws.setSource({ create_accounts_from_companies: true });
    await deliverAndWait(
      ws.connection.id,
      notification("company.created", { appId: ws.appId, edit: (item) => void (item.id = companyId) }),
    );
    expect((await ws.account("acct-northwind")).body.user_ids).toEqual([]);
    expect((await ws.lookup({ user_id: "cdp-user-2041" })).body.account_ids).toEqual([]);
  });
});

describe.concurrent("merged and deleted objects", () => {
  it("contact.merged with merged_from: the survivor inherits the merged lead's user, which gets its user_id", async () => {
    const ws = await sourceWorkspace();
    const merged = fixture("contact.merged");
    const leadId = merged.data.item.merged_from.id as string;
    const survivorId = merged.data.item.id as string;
    await deliverAndWait(
      ws.connection.id,
      notification("contact.lead.created", {
        appId: ws.appId,
        edit: (item) => Object.assign(item, { id: leadId, email: "morgan.lead@example.net" }),
      }),
    );
    const rows = await deliverAndWait(ws.connection.id, notification("contact.merged", { appId: ws.appId }));
    expect(rows.map((row) => row.detail)).toEqual([
      `Intercom contact ${leadId} merged into ${survivorId}; the link follows the survivor`,
      "updated email, external_id, role, name",
    ]);
    const user = await ws.lookup({ user_id: "cdp-user-5120" });
    expect(user.body).toMatchObject({
      email: "morgan.blake@example.net",
      intercom_contact_id: survivorId,
      properties: { role: "user", full_name: "Morgan Blake" },
    });
    expect((await ws.lookup({ email: "morgan.lead@example.net" })).status).toBe(404);
    const links = await env.DB.prepare("SELECT intercom_id FROM intercom_links WHERE connection_id = ?")
      .bind(ws.connection.id)
      .all();
    expect(links.results).toEqual([{ intercom_id: survivorId }]);
  });

  it("contact.merged without merged_from is a contact update of the survivor", async () => {
    const ws = await sourceWorkspace();
    const rows = await deliverAndWait(
      ws.connection.id,
      notification("contact.merged.without-merged-from", { appId: ws.appId }),
    );
    expect(rows).toMatchObject([
      { outcome: "captured", object_type: "user", object_id: "cdp-user-5120", detail: "created from Intercom" },
    ]);
  });

  it("contact.deleted unlinks the contact; the CDP user stays", async () => {
    const ws = await sourceWorkspace();
    const contactId = intercomId();
    await deliverAndWait(
      ws.connection.id,
      notification("contact.user.created", { appId: ws.appId, edit: (item) => void (item.id = contactId) }),
    );
    const rows = await deliverAndWait(
      ws.connection.id,
      notification("contact.deleted", { appId: ws.appId, edit: (item) => void (item.id = contactId) }),
    );
    expect(rows).toMatchObject([
      {
        outcome: "captured",
        object_id: "cdp-user-2041",
        detail: "Intercom contact deleted: unlinked, the CDP user stays",
      },
    ]);
    expect((await ws.lookup({ user_id: "cdp-user-2041" })).body).toMatchObject({
      user_id: "cdp-user-2041",
      intercom_contact_id: null,
    });
    // A second delete of an unknown contact is logged, not an error.
    const again = await deliverAndWait(
      ws.connection.id,
      notification("contact.deleted", { appId: ws.appId, edit: (item) => void (item.id = contactId) }),
    );
    expect(again).toMatchObject([{ outcome: "skipped", detail: "Intercom contact deleted; it was not linked" }]);
  });

  it("company.deleted unlinks the company; the CDP account stays", async () => {
    const ws = await sourceWorkspace();
    const companyId = intercomId();
    await deliverAndWait(
      ws.connection.id,
      notification("company.created", { appId: ws.appId, edit: (item) => void (item.id = companyId) }),
    );
    const rows = await deliverAndWait(
      ws.connection.id,
      notification("company.deleted", { appId: ws.appId, edit: (item) => void (item.id = companyId) }),
    );
    expect(rows).toMatchObject([{ outcome: "captured", object_type: "account", object_id: "acct-northwind" }]);
    expect((await ws.account("acct-northwind")).body).toMatchObject({
      name: "Northwind Traders",
      intercom_company_id: null,
    });
  });
});

describe.concurrent("notifications that are not captured", () => {
  it("an unknown app_id is skipped with the reason", async () => {
    const appId = `app_unknown_${crypto.randomUUID().slice(0, 8)}`;
    const envelope = notification("contact.user.created", { appId });
    expect((await postWebhook(envelope)).status).toBe(200);
    const row = await waitFor(
      () =>
        env.DB.prepare("SELECT * FROM sync_logs WHERE object_id = ?")
          .bind(envelope.id)
          .first<Record<string, unknown>>(),
      { what: "the unknown app's log row" },
    );
    expect(row).toMatchObject({
      connection_id: null,
      outcome: "skipped",
      direction: "in",
      detail: `no connection for Intercom app ${appId}`,
    });
  });

  it("a switched-off source, or a disconnected connection, skips with the reason", async () => {
    const off = await sourceWorkspace({ source: { enabled: false } });
    expect(
      await deliverAndWait(off.connection.id, notification("contact.user.created", { appId: off.appId })),
    ).toMatchObject([{ outcome: "skipped", object_type: "notification", detail: "the source is switched off" }]);
    expect((await off.lookup({ user_id: "cdp-user-2041" })).status).toBe(404);

    const gone = await sourceWorkspace();
    await env.DB.prepare("UPDATE connections SET status = 'disconnected' WHERE id = ?").bind(gone.connection.id).run();
    expect(
      await deliverAndWait(gone.connection.id, notification("contact.user.created", { appId: gone.appId })),
    ).toMatchObject([{ outcome: "skipped", detail: "the connection is disconnected" }]);
  });

  it("a topic the source does not handle is logged as ignored; ping is acknowledged and not queued", async () => {
    const ws = await sourceWorkspace();
    // Ignored notifications are counted, not logged row by row (their console line names the topic).
    const spy = vi.spyOn(console, "log");
    await deliver(notification("contact.user.tag.created", { appId: ws.appId }));
    await waitFor(async () => ((await syncLogCountsOf(ws.connection.id))["in.ignored"] ?? 0) > 0 || null, {
      what: "the ignored notification to be counted",
    });
    const printed = spy.mock.calls.map((call) => call[0] as Record<string, unknown>);
    spy.mockRestore();
    expect(await syncLogCountsOf(ws.connection.id)).toEqual({ "in.ignored": 1 });
    expect(await syncLogsOf(ws.connection.id)).toEqual([]);
    expect(printed).toContainEqual(
      expect.objectContaining({
        connection_id: ws.connection.id,
        outcome: "ignored",
        object_type: "notification",
        detail: "topic contact.user.tag.created is not handled by the source",
      }),
    );
    expect((await postWebhook(notification("ping", { appId: ws.appId }))).status).toBe(200);
  });

  it("unsigned, tampered, oversized and non-JSON bodies are refused (401/401/413/400) and change nothing", async () => {
    const ws = await sourceWorkspace();
    const envelope = notification("contact.user.created", { appId: ws.appId });
    const body = JSON.stringify(envelope);
    const big = JSON.stringify({ ...envelope, padding: "x".repeat(MAX_WEBHOOK_BYTES) });
    const statuses = [
      (await postWebhook(body, { signature: null })).status,
      (await postWebhook(body.replace("cdp-user-2041", "cdp-user-6666"), { signature: await sign(body) })).status,
      (await postWebhook(big)).status,
      (await postWebhook("{not json")).status,
    ];
    expect(statuses).toEqual([401, 401, 413, 400]);
    // A valid notification sent after them is processed; had any of them been queued, it would have been too.
    const marker = notification("company.created", { appId: ws.appId });
    await deliverAndWait(ws.connection.id, marker);
    expect((await syncLogsOf(ws.connection.id)).map((row) => row.action)).toEqual(["company.created"]);
    expect((await ws.lookup({ user_id: "cdp-user-2041" })).status).toBe(404);
    expect((await ws.lookup({ user_id: "cdp-user-6666" })).status).toBe(404);
  });
});
