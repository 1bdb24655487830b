import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../src/db/client";
import { accounts } from "../src/db/schema";
import { acceptAction, getAction } from "../src/destination/actions";
import { resolveBatch } from "../src/destination/batch-resolve";
import { loadSyncContext } from "../src/destination/context";
import { identifyUser, setMembership, upsertAccount } from "../src/destination/ingest";
import { resumeParkedSyncs } from "../src/destination/parking";
import { previewContactSync } from "../src/destination/preview";
import {
  cancelResync,
  handOverResyncUsers,
  resumeStalledResyncs,
  runResyncPage,
  startResync,
} from "../src/destination/resync";
import { countOutcome, latestJob } from "../src/destination/resync-jobs";
import { executeAction, finishAction, queuedActions, startAction } from "../src/destination/sync/action";
import { syncCompany } from "../src/destination/sync/company";
import { syncContact } from "../src/destination/sync/contact";
import { wakeLinkedUsers } from "../src/destination/wake";
import type { Env } from "../src/env";
import { recordDeadLetter } from "../src/ops/dead-letters";
import { runHousekeeping } from "../src/ops/housekeeping";
import { listDeadLetters, replayDeadLetters } from "../src/ops/replay";
import { sweepStart } from "../src/source/sweep/messages";
import { runSweepPage, scheduleSweeps } from "../src/source/sweep/run";
import { connectDestination } from "./helpers/destination";
import { useIntercomSim } from "./helpers/intercom-sim";
import { type Recorded, recordingD1, scanningStatements } from "./helpers/query-plans";

// Every query of the ingest routes, the destination's objects, actions, resync, dead letters, the sweep and the
// housekeeping cron, recorded as D1 receives them, then asked for its plan: none reads a whole table.

const sim = useIntercomSim();

describe("query plans of the destination, actions and operations", () => {
  it("use an index for every query", async () => {
    const recorded: Recorded[] = [];
    const proxied: Env = { ...env, DB: recordingD1(env.DB, recorded) };
    const { workspaceId: ws, connection } = await connectDestination(sim, {
      segments: ["beta"],
      mappings: { contact: [], company: [] },
    });
    // Some content, so the planner sees real tables.
    for (let i = 0; i < 30; i++)
      await identifyUser(env, ws, { user_id: `filler-${i}`, email: `f${i}@example.com`, segments: ["beta"] });

    const created = await identifyUser(proxied, ws, {
      user_id: "u-plan",
      email: "plan@example.com",
      properties: { full_name: "Plan" },
      segments: ["beta"],
    });
    await identifyUser(proxied, ws, { email: "plan@example.com", properties: { phone: "+1" } });
    await identifyUser(proxied, ws, { email: "only-email@example.com" });
    await upsertAccount(proxied, ws, "acme", { name: "Acme" });
    await upsertAccount(proxied, ws, "acme", { properties: { plan: "pro" } });
    await setMembership(proxied, ws, "acme", "u-plan", true);

    const loaded = await loadSyncContext(proxied, connection.id);
    if (!loaded.usable) throw new Error("connection not usable");
    const context = loaded.context;
    const account = (await database(env.DB).select().from(accounts).all())[0]!;
    await syncCompany(context, account.pk);
    await syncContact(context, created.row.pk, {
      companyIdOf: async (pk) => {
        const outcome = await syncCompany(context, pk);
        return outcome.kind === "synced" ? outcome.companyId : null;
      },
    });
    await syncContact(context, created.row.pk, { companyIdOf: async () => null });
    await resolveBatch(proxied, connection.id, [
      { kind: "user", connection_id: connection.id, local_pk: created.row.pk },
      { kind: "user", connection_id: connection.id, local_pk: created.row.pk + 1 },
      { kind: "user", connection_id: connection.id, local_pk: created.row.pk + 2 },
    ]);
    await setMembership(proxied, ws, "acme", "u-plan", false);

    const { id } = await acceptAction(proxied, ws, {
      user_id: "u-plan",
      type: "add_tag",
      tag: "VIP",
      idempotency_key: "k1",
    });
    await acceptAction(proxied, ws, { user_id: "u-plan", type: "add_tag", tag: "VIP", idempotency_key: "k1" });
    await getAction(proxied, ws, id);
    await queuedActions(context.db, connection.id, created.row.pk);
    const action = (await startAction(context.db, id))!;
    await executeAction(
      context,
      action,
      ((await syncContact(context, created.row.pk, { companyIdOf: async () => null })) as { contactId: string })
        .contactId,
    );
    await finishAction(context, action, { status: "done", detail: "ok", subject: { objectId: "u-plan", email: null } });

    const started = await startResync(proxied, { id: connection.id, workspaceId: ws, segments: ["beta"] });
    if (!started.ok) throw new Error("resync not started");
    const job = started.job;
    await runResyncPage(proxied, { kind: "resync_page", job_id: job.id, connection_id: connection.id, after_pk: 0 });
    await handOverResyncUsers(proxied, [
      {
        kind: "resync_users",
        job_id: job.id,
        connection_id: connection.id,
        workspace_id: ws,
        local_pks: [created.row.pk],
      },
    ]);
    await countOutcome(database(proxied.DB), job.id, "noop");
    await latestJob(database(proxied.DB), connection.id);
    await cancelResync(proxied, { id: connection.id, workspaceId: ws });
    await resumeStalledResyncs(proxied, Date.now());
    await previewContactSync(proxied, context.connection, "u-plan");
    await wakeLinkedUsers(proxied, connection, [created.row.pk]);
    await resumeParkedSyncs(proxied, connection);
    await recordDeadLetter(database(proxied.DB), {
      queue: "intercom-outbound",
      connectionId: connection.id,
      workspaceId: ws,
      body: {},
      detail: "x",
    });
    await listDeadLetters(proxied, connection, { limit: 10 });
    await listDeadLetters(proxied, connection, { limit: 10, cursor: 1_000 });
    await replayDeadLetters(proxied, { id: connection.id, workspaceId: ws });
    await scheduleSweeps(proxied);
    await runSweepPage(proxied, sweepStart(connection.id, Date.now()));
    await runSweepPage(proxied, { ...sweepStart(connection.id, Date.now()), phase: "companies", from: 0 });
    await runHousekeeping(proxied, Date.now());

    const { checked, offenders } = await scanningStatements(recorded);
    expect(checked).toBeGreaterThan(40);
    expect(offenders).toEqual([]);
  });
});
