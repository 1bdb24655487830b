import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { acceptAction } from "../src/destination/actions";
import { identifyUser, setMembership, upsertAccount } from "../src/destination/ingest";
import { connectDestination, intercomRest, settle, waitFor } from "./helpers/destination";
import { journalMark, useIntercomSim, versionsSent } from "./helpers/intercom-sim";

// Intercom behaviours the simulator now shares with production: merged contacts answer 404 "User Not Found" on
// every route but GET, archived contacts (a 409 on create), writable standard attributes read back, and the API
// version every call must carry.

const sim = useIntercomSim();

function callsSince(mark: number) {
  return sim.journal({ since: mark }).map((entry) => `${entry.method} ${entry.path} ${entry.status}`);
}

async function outLogs(connectionId: string, where = "1 = 1") {
  const { results } = await env.DB.prepare(
    `SELECT outcome, action, detail, intercom_id FROM sync_logs WHERE connection_id = ? AND direction = 'out' AND ${where} ORDER BY id`,
  )
    .bind(connectionId)
    .all<{ outcome: string; action: string; detail: string; intercom_id: string | null }>();
  return results;
}

async function linkOf(connectionId: string) {
  return env.DB.prepare("SELECT intercom_id FROM intercom_links WHERE connection_id = ? AND object_type = 'contact'")
    .bind(connectionId)
    .first<{ intercom_id: string }>();
}

/** A CDP user linked to an Intercom lead, which is then merged into a user contact with the same external id. */
async function mergedAway() {
  const { workspace, workspaceId, connection } = await connectDestination(sim);
  const lead = await intercomRest(workspace, "POST", "/contacts", { role: "lead", email: "merge@example.com" });
  sim.settleSearch();
  await identifyUser(env, workspaceId, { email: "merge@example.com", properties: { full_name: "Before" } });
  await waitFor(async () => (await linkOf(connection.id))?.intercom_id === lead.json.id, 10_000, "linked to the lead");
  await settle(500);
  const user = await intercomRest(workspace, "POST", "/contacts", { role: "user", email: "merge@example.com" });
  const merged = await intercomRest(workspace, "POST", "/contacts/merge", { from: lead.json.id, into: user.json.id });
  expect(merged.status).toBe(200);
  sim.settleSearch();
  return { workspace, workspaceId, connection, leadId: lead.json.id as string, userId: user.json.id as string };
}

describe("production parity: merged and archived contacts", () => {
  it("a 404 'User Not Found' on the update of a merged contact drops the link, finds the survivor and updates it", async () => {
    const { workspace, workspaceId, connection, leadId, userId } = await mergedAway();
    const mark = journalMark(sim);
    await identifyUser(env, workspaceId, { email: "merge@example.com", properties: { full_name: "After" } });
    await waitFor(async () => (await linkOf(connection.id))?.intercom_id === userId, 10_000, "relinked");
    await settle(500);
    expect(callsSince(mark)).toEqual([
      `PUT /contacts/${leadId} 404`,
      "POST /contacts/search 200",
      `PUT /contacts/${userId} 200`,
    ]);
    expect(versionsSent(sim, { since: mark })).toEqual(["2.16"]);
    expect((await intercomRest(workspace, "GET", `/contacts/${userId}`)).json.name).toBe("After");
    expect(await outLogs(connection.id, "detail LIKE '%gone%'")).toHaveLength(1);
  });

  it("an action on a merged contact: the tag call's 404 resolves the survivor and tags it once", async () => {
    const { workspace, workspaceId, connection, leadId, userId } = await mergedAway();
    const mark = journalMark(sim);
    const { id } = await acceptAction(env, workspaceId, { email: "merge@example.com", type: "add_tag", tag: "VIP" });
    await waitFor(
      async () => (await env.DB.prepare("SELECT status FROM actions WHERE id = ?").bind(id).first())?.status === "done",
      10_000,
      "action done",
    );
    const calls = callsSince(mark);
    expect(calls.filter((call) => call.startsWith(`POST /contacts/${leadId}/tags`))).toEqual([
      `POST /contacts/${leadId}/tags 404`,
    ]);
    expect(calls.filter((call) => call.startsWith(`POST /contacts/${userId}/tags`))).toEqual([
      `POST /contacts/${userId}/tags 200`,
    ]);
    const tags = (await intercomRest(workspace, "GET", `/contacts/${userId}`)).json.tags.data;
    expect(tags.map((tag: { name?: string }) => tag.name ?? tag)).toHaveLength(1);
    expect((await linkOf(connection.id))?.intercom_id).toBe(userId);
  });

  it("a 410 with a Link on a merged contact's id is followed to the survivor", async () => {
    // GET answers 410 + Link; the connector never GETs a contact, so this is covered by the simulator's tests and
    // by forgetGoneContact reading `canonicalId` (destination-pure tests). Here: the classified failure carries it.
    const { classifyResponse } = await import("../src/intercom/errors");
    const failure = classifyResponse(
      410,
      { type: "error.list", errors: [{ code: "contact_merged", message: "This contact has been merged." }] },
      new Headers({ link: '</contacts/abc123>; rel="canonical"' }),
    );
    expect(failure).toMatchObject({ kind: "gone", canonicalId: "abc123" });
  });
});

describe("production parity: writable standard attributes are read back", () => {
  it("mapped avatar, owner, last seen and unsubscribe cost nothing once Intercom holds them", async () => {
    const { workspace, workspaceId } = await connectDestination(sim, {
      mappings: {
        contact: [
          { from: "picture", to: "avatar", type: "string" },
          { from: "owner", to: "owner_id", type: "string" },
          { from: "seen", to: "last_seen_at", type: "date" },
          { from: "optout", to: "unsubscribed_from_emails", type: "boolean" },
        ],
        company: [
          { from: "headcount", to: "size", type: "integer" },
          { from: "site", to: "website", type: "string" },
          { from: "sector", to: "industry", type: "string" },
        ],
      },
    });
    const admin = String((await intercomRest(workspace, "GET", "/me")).json.id);
    const properties = {
      full_name: "Wide Reader",
      picture: "https://example.com/a.png",
      owner: admin,
      seen: "2026-11-30T10:00:00Z",
      optout: true,
    };
    await identifyUser(env, workspaceId, { user_id: "u-read", email: "read@example.com", properties });
    await upsertAccount(env, workspaceId, "acme-read", {
      name: "Acme",
      properties: { headcount: 42, site: "https://acme.example", sector: "Tools" },
    });
    await setMembership(env, workspaceId, "acme-read", "u-read", true);
    await waitFor(() => sim.state(workspace.app_id).attachments.length === 1, 10_000, "attached");
    await settle(500);
    const contact = sim.state(workspace.app_id).contacts[0]!;
    expect(contact).toMatchObject({ owner_id: admin, unsubscribed_from_emails: true });

    // A change of another field sends only that field; a resync with nothing new sends nothing.
    const mark = journalMark(sim);
    await identifyUser(env, workspaceId, { user_id: "u-read", properties: { ...properties, phone: "+1 555 0100" } });
    await upsertAccount(env, workspaceId, "acme-read", { properties: { headcount: 42, site: "https://acme.example" } });
    await waitFor(() => sim.state(workspace.app_id).contacts[0]?.phone === "+1 555 0100", 10_000, "phone");
    await settle(800);
    const bodies = sim
      .journal({ since: mark })
      .map((entry) => `${entry.method} ${entry.path} ${JSON.stringify(entry.request_body)}`);
    expect(bodies).toEqual([`PUT /contacts/${contact.id} {"phone":"+1 555 0100"}`]);
    expect(versionsSent(sim, { since: mark })).toEqual(["2.16"]);
  });
});
