import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { accountJson } from "../src/api/ingest/accounts";
import { userJson } from "../src/api/ingest/users";
import { findByAppId } from "../src/connections/repository";
import { database } from "../src/db/client";
import { findAccount } from "../src/graph/accounts";
import { eventsOfUser } from "../src/graph/events";
import { findUser } from "../src/graph/users";
import { processNotification } from "../src/source/process";
import { prefetchReads } from "../src/source/reads";
import type { SourceConnection, SourceNotification } from "../src/source/work";
import { seedConnection } from "./helpers/connections";
import { fullScans, type Recorded, recordingD1, scanningStatements } from "./helpers/query-plans";
import { type FixtureName, fixture, intercomId } from "./helpers/webhooks";

// Every query the source path and the read API run, recorded with its parameters as D1 receives them, then asked
// for its plan: none may read a whole table (a `SCAN` of it) where an index lookup (`SEARCH`) is due.

describe("query plans of the source path and the read API", () => {
  it("use an index for every query", async () => {
    const recorded: Recorded[] = [];
    const db = database(recordingD1(env.DB, recorded));
    const row = await seedConnection({ workspaceId: "ws_plans" });
    const connection: SourceConnection = {
      id: row.id,
      workspaceId: row.workspaceId,
      appId: row.appId,
      source: row.source,
      destination: row.destination,
    };
    const noCompanies: SourceConnection = {
      ...connection,
      source: { ...connection.source, create_accounts_from_companies: false },
    };
    const run = (name: FixtureName, edit: (item: Record<string, any>) => void = () => {}, target = connection) => {
      const envelope = fixture(name);
      edit(envelope.data.item);
      const notification: SourceNotification = {
        id: `notif_${crypto.randomUUID()}`,
        topic: envelope.topic,
        created_at: envelope.created_at,
        item: envelope.data.item,
      };
      return processNotification(db, target, notification, "webhook");
    };

    // Some content first, so the planner sees real tables, and the same statements run on the paths that find rows.
    const contactId = intercomId();
    const leadId = intercomId();
    const companyId = intercomId();
    await run("contact.user.created", (item) => (item.id = contactId));
    await run("contact.user.updated", (item) => (item.id = contactId));
    await run("contact.lead.created", (item) => (item.id = leadId));
    await run("contact.lead.signed_up", (item) => (item.id = leadId));
    await run("company.created", (item) => (item.id = companyId));
    await run("company.updated", (item) => (item.id = companyId));
    await run(
      "company.contact.attached",
      (item) => Object.assign(item.contact, { id: contactId }) && Object.assign(item.company, { id: companyId }),
    );
    await run(
      "company.contact.detached",
      (item) => Object.assign(item.contact, { id: contactId }) && Object.assign(item.company, { id: companyId }),
    );
    await run(
      "company.contact.attached",
      (item) => Object.assign(item.company, { id: intercomId(), company_id: "acct-later" }),
      noCompanies,
    );
    await run("company.created", (item) => Object.assign(item, { id: intercomId(), company_id: "acct-later" }));
    await run("conversation.user.created", (item) => (item.contacts.contacts[0].id = contactId));
    await run("event.created", (item) => (item.intercom_user_id = contactId));
    await run("event.created", (item) =>
      Object.assign(item, { intercom_user_id: intercomId(), user_id: null, email: "early@example.com" }),
    );
    await run("contact.merged", (item) => (item.merged_from.id = leadId));
    await run("contact.deleted", (item) => (item.id = contactId));
    await run("company.deleted", (item) => (item.id = companyId));
    await run("contact.user.tag.created");
    const envelope = fixture("ping");
    await processNotification(
      db,
      connection,
      { id: "notif_dup", topic: "contact.user.tag.created", created_at: envelope.created_at, item: {} },
      "webhook",
    );
    await processNotification(
      db,
      connection,
      { id: "notif_dup", topic: "contact.user.tag.created", created_at: envelope.created_at, item: {} },
      "webhook",
    );
    await findByAppId(db, connection.appId);
    // The INBOUND consumer's bulk reads of a queue batch (links, users and accounts they name, pending links, …).
    const batch = (["contact.user.updated", "company.contact.attached", "event.created"] as const).map((name) => {
      const { topic, created_at, data } = fixture(name);
      return { id: `notif_${crypto.randomUUID()}`, topic, created_at, item: data.item } satisfies SourceNotification;
    });
    await prefetchReads(db, connection, batch);

    // The read API's queries.
    const user = (await findUser(db, "ws_plans", { userId: "cdp-user-2041" }))!;
    await findUser(db, "ws_plans", { email: "jamie.rivera@example.com" });
    await findUser(db, "ws_plans", { userId: "nobody", email: "early@example.com" });
    await userJson({ db, control: db }, user);
    const page = await eventsOfUser(db, user.pk, { limit: 2 });
    await eventsOfUser(db, user.pk, { after: { occurredAt: page[0]!.occurredAt, pk: page[0]!.pk }, limit: 2 });
    await accountJson({ db, control: db }, (await findAccount(db, "ws_plans", "acct-northwind"))!);

    const { checked, offenders } = await scanningStatements(recorded);
    expect(checked).toBeGreaterThan(25);
    expect(offenders).toEqual([]);
  });

  it("the check itself catches a full scan", async () => {
    expect(await fullScans("SELECT * FROM users WHERE email = ?", ["a@b.c"])).toEqual(["SCAN users"]);
    // A search by the identity map's key prefix alone reads every link of a connection.
    const everyLink = "SELECT * FROM intercom_links WHERE connection_id = ? AND object_type = ?";
    expect(await fullScans(everyLink, ["c", "contact"])).toEqual([
      "SEARCH intercom_links USING INDEX sqlite_autoindex_intercom_links_1 (connection_id=? AND object_type=?)",
    ]);
    expect(await fullScans("SELECT * FROM users WHERE workspace_id = ? AND email = ?", ["w", "a@b.c"])).toEqual([]);
  });
});
