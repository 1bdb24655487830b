/**
 * One Durable Object per connection + CDP user (or account): the serialized mailbox of that object's Intercom work.
 * Messages only mark it dirty or append an action; an alarm then runs the work against the current D1 state, so a
 * burst of changes becomes one sync. Failures are retried by alarm (429 at the reset time, 5xx with backoff), a
 * revoked token parks the work until reconnect, and work that exhausts its retries becomes a dead letter.
 */

import { DurableObject } from "cloudflare:workers";
import type { Connection } from "../connections/repository";
import type { Database } from "../db/client";
import { tenantDb } from "../db/placement";
import type { Env } from "../env";
import { getAccount } from "../graph/accounts";
import { linkByLocal } from "../graph/links";
import { usersOfAccount } from "../graph/memberships";
import { getUser } from "../graph/users";
import { failureOf, IntercomCallError, type IntercomFailure, isContactGone } from "../intercom/errors";
import { describeError } from "../lib/errors";
import { log } from "../lib/log";
import { sendAll } from "../lib/queue-batches";
import { QUEUE_NAMES } from "../lib/queue-names";
import { recordDeadLetter } from "../ops/dead-letters";
import { type ContactErasure, type ContactErasureResult, eraseOnConnection } from "../privacy/erase-contact";
import { loadSyncContext, type SyncContext } from "./context";
import { type SyncMessage, syncObjectName } from "./outbound-message";
import { park, revokeAndPark } from "./parking";
import { decide, type FailureDecision, retryLimits } from "./plan/retry-policy";
import { syncDebounceMs } from "./plan/sync-debounce";
import { countOutcome } from "./resync-jobs";
import type { ResyncOutcome } from "./resync-messages";
import { executeAction, finishAction, queuedActions, startAction } from "./sync/action";
import { syncCompany } from "./sync/company";
import { forgetGoneContact, syncContact } from "./sync/contact";
import { logOut } from "./sync/steps";

interface Target {
  connectionId: string;
  kind: "user" | "account";
  localPk: number;
}

/** What `ensureCompany` answers across the RPC boundary (errors would lose their type there). */
export type CompanyIdResult =
  | { ok: true; companyId: string | null }
  | { ok: false; failure: IntercomFailure; operation: string };

const KEY = {
  target: "target",
  dirty: "dirty",
  /** Some action of this user waits: the queued ones are read from D1, in order, when the object runs. */
  actionsPending: "actionsPending",
  attempts: "attempts",
  parked: "parked",
  absentCheckedAt: "absentCheckedAt",
  /** Contacts an erase already archived/deleted, kept until the whole erase succeeds (a retry sends none twice). */
  erasedContacts: "erasedContacts",
  /** The resync job whose sync is pending here: its outcome counts towards that job. */
  resyncJob: "resyncJob",
  /** The last resync job this object counted: a page delivered twice hands the user over twice, counted once. */
  resyncCounted: "resyncCounted",
  /** The pending sync was asked for by a resync only (bulk lane): it spends the bulk share of the rate budget. */
  bulkOnly: "bulkOnly",
} as const;

/**
 * How long a batch search's "not in Intercom" stays good enough to create without searching again: a resync paced by
 * the bulk share may reach a user minutes after its page's search, and a contact created meanwhile still makes the
 * create a 409 that resolves to it.
 */
const ABSENCE_FRESH_MS = 10 * 60_000;

export class ContactSync extends DurableObject<Env> {
  /** Serializes runs inside this object: an alarm and an `ensureCompany` call never interleave. */
  private running: Promise<unknown> = Promise.resolve();

  /** Records work for this object and makes sure an alarm will run it. */
  async enqueue(message: SyncMessage): Promise<void> {
    const storage = this.ctx.storage;
    if (message.resync_job && (await storage.get<string>(KEY.resyncCounted)) === message.resync_job) return;
    await storage.put(KEY.target, {
      connectionId: message.connection_id,
      kind: message.kind,
      localPk: message.local_pk,
    });
    if (message.action_id) {
      await storage.put(KEY.actionsPending, true);
      await storage.put(KEY.bulkOnly, false);
    } else if (message.resync_job) {
      // Bulk only while no real-time change waits here too.
      if (!(await storage.get<boolean>(KEY.dirty))) await storage.put(KEY.bulkOnly, true);
      await storage.put(KEY.resyncJob, message.resync_job);
      await storage.put(KEY.dirty, true);
    } else {
      await storage.put(KEY.dirty, true);
      await storage.put(KEY.bulkOnly, false);
    }
    if (message.absent_checked_at) await storage.put(KEY.absentCheckedAt, message.absent_checked_at);
    // An alarm already set (possibly later, for a backoff or a rate-limit reset) will pick this up. A quiet object
    // waits SYNC_DEBOUNCE_MS first, so the rest of a burst joins this run.
    if ((await storage.getAlarm()) === null) await storage.setAlarm(Date.now() + syncDebounceMs(this.env));
  }

  /** For an account's object: its Intercom company id, syncing (and, when allowed, creating) the company first. */
  async ensureCompany(connectionId: string, accountPk: number): Promise<CompanyIdResult> {
    return this.serialized(async () => {
      const loaded = await loadSyncContext(this.env, connectionId);
      if (!loaded.usable) return { ok: true, companyId: null };
      const link = await linkByLocal(loaded.context.db, connectionId, "company", accountPk);
      if (link) return { ok: true, companyId: link.intercomId };
      try {
        const outcome = await syncCompany(loaded.context, accountPk);
        return { ok: true, companyId: outcome.kind === "synced" ? outcome.companyId : null };
      } catch (error) {
        return {
          ok: false,
          failure: failureOf(error),
          operation: error instanceof IntercomCallError ? error.operation : "company",
        };
      }
    });
  }

  /**
   * Erases this user on this connection (privacy): waits for a run under way, drops what is pending (a change or
   * action queued before the erase is never sent after it), then archives/deletes the contact as `on_erase` says.
   */
  async erase(request: ContactErasure): Promise<ContactErasureResult> {
    return this.serialized(async () => {
      const storage = this.ctx.storage;
      await storage.deleteAlarm();
      await storage.delete([KEY.dirty, KEY.actionsPending, KEY.attempts, KEY.parked, KEY.absentCheckedAt]);
      const done = new Set((await storage.get<string[]>(KEY.erasedContacts)) ?? []);
      const result = await eraseOnConnection(this.env, request, done, async (contactId) => {
        done.add(contactId);
        await storage.put(KEY.erasedContacts, [...done]);
      });
      if (result.ok) await storage.deleteAll();
      return result;
    });
  }

  /** What is pending here (for tests and the admin API). */
  async pending(): Promise<{
    dirty: boolean;
    actions: boolean;
    attempts: number;
    parked: boolean;
    alarm: number | null;
  }> {
    const storage = this.ctx.storage;
    return {
      dirty: (await storage.get<boolean>(KEY.dirty)) ?? false,
      actions: (await storage.get<boolean>(KEY.actionsPending)) ?? false,
      attempts: (await storage.get<number>(KEY.attempts)) ?? 0,
      parked: (await storage.get<boolean>(KEY.parked)) ?? false,
      alarm: await storage.getAlarm(),
    };
  }

  override async alarm(): Promise<void> {
    await this.serialized(() => this.run());
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const next = this.running.then(work, work);
    this.running = next.catch(() => undefined);
    return next;
  }

  private async run(): Promise<void> {
    const storage = this.ctx.storage;
    const target = await storage.get<Target>(KEY.target);
    if (!target) return;
    const lane = (await storage.get<boolean>(KEY.bulkOnly)) ? "bulk" : "realtime";
    const loaded = await loadSyncContext(this.env, target.connectionId, lane);
    if (!loaded.usable) {
      if (loaded.park) return this.parkHere(target, loaded.reason, loaded.connection);
      return this.dropAll(target, loaded.reason, loaded.connection);
    }
    await storage.put(KEY.parked, false);
    const context = loaded.context;

    if (await storage.get<boolean>(KEY.dirty)) {
      // Cleared before the work: a change that arrives meanwhile sets it again and gets its own run.
      await storage.put(KEY.dirty, false);
      let outcome: ResyncOutcome = "synced";
      const result = await this.attempt(context, target, null, async () => {
        outcome = await this.syncTarget(context, target);
      });
      if (result !== "retry") {
        await storage.put(KEY.bulkOnly, false);
        await this.countForJob(context.db, result === "ok" ? outcome : result === "park" ? "skipped" : "failed");
      }
      if (result === "retry" || result === "park") return;
    }
    if (target.kind === "user" && (await storage.get<boolean>(KEY.actionsPending))) {
      // Cleared first: an action accepted meanwhile sets it again and gets its own run.
      await storage.put(KEY.actionsPending, false);
      for (const actionId of await queuedActions(context.db, context.connection.id, target.localPk)) {
        const result = await this.attempt(context, target, actionId, () => this.runAction(context, target, actionId));
        if (result === "retry" || result === "park") {
          await storage.put(KEY.actionsPending, true);
          return;
        }
      }
    }
  }

  /**
   * Runs one piece of work; on failure applies the retry policy. Returns "ok", or the decision taken: the run must
   * stop after "retry" or "park"; "fail" is final for this piece.
   */
  private async attempt(
    context: SyncContext,
    target: Target,
    actionId: string | null,
    work: () => Promise<void>,
  ): Promise<"ok" | FailureDecision["kind"]> {
    try {
      await work();
      await this.ctx.storage.put(KEY.attempts, 0);
      return "ok";
    } catch (error) {
      const failure = failureOf(error);
      const step = error instanceof IntercomCallError ? error.operation : "sync";
      if (!(error instanceof IntercomCallError)) {
        log({
          level: "error",
          msg: "destination step threw",
          connection_id: target.connectionId,
          error: describeError(error),
        });
      }
      const attempts = ((await this.ctx.storage.get<number>(KEY.attempts)) ?? 0) + 1;
      const decision = decide(failure, attempts, Date.now(), Math.random(), retryLimits(this.env));
      await this.apply(decision, context, target, actionId, step, attempts);
      return decision.kind;
    }
  }

  private async apply(
    decision: FailureDecision,
    context: SyncContext,
    target: Target,
    actionId: string | null,
    step: string,
    attempts: number,
  ): Promise<void> {
    const storage = this.ctx.storage;
    const entry = {
      ...(await subjectOf(context.db, context.connection.workspaceId, target)),
      objectType: actionId ? "action" : objectTypeOf(target),
      action: step,
    };
    if (decision.kind === "retry") {
      if (!actionId) await storage.put(KEY.dirty, true);
      if (decision.countsAsAttempt) await storage.put(KEY.attempts, attempts);
      await storage.setAlarm(decision.at);
      const detail = `${decision.detail}; next attempt at ${new Date(decision.at).toISOString()}`;
      // A resync paced by the rate budget waits thousands of times: a console line each, not a sync-log row.
      if (decision.paced) {
        log({
          level: "info",
          msg: "destination sync paced by the rate budget",
          connection_id: target.connectionId,
          detail,
        });
        return;
      }
      await logOut(context, { ...entry, outcome: "retrying", detail });
      return;
    }
    if (decision.kind === "park") {
      if (!actionId) await storage.put(KEY.dirty, true);
      await revokeAndPark(context, context.connection, { kind: target.kind, localPk: target.localPk }, decision.detail);
      await storage.put(KEY.parked, true);
      await logOut(context, { ...entry, outcome: "parked", detail: `${decision.detail}; resumed on reconnect` });
      return;
    }
    await storage.put(KEY.attempts, 0);
    if (actionId) {
      const action = await startAction(context.db, actionId);
      if (action) await finishAction(context, action, { status: "failed", detail: decision.detail, subject: entry });
    } else {
      await logOut(context, { ...entry, outcome: "failed", detail: decision.detail });
    }
    if (decision.exhausted) {
      await recordDeadLetter(context.db, {
        queue: QUEUE_NAMES.outbound,
        connectionId: target.connectionId,
        workspaceId: context.connection.workspaceId,
        body: {
          connection_id: target.connectionId,
          kind: target.kind,
          local_pk: target.localPk,
          ...(actionId ? { action_id: actionId } : {}),
        },
        detail: decision.detail,
      });
    }
  }

  /** Syncs the target; returns how a resync job counts it (a matching conflict counts as failed). */
  private async syncTarget(context: SyncContext, target: Target): Promise<ResyncOutcome> {
    if (target.kind === "account") {
      const outcome = await syncCompany(context, target.localPk);
      if (outcome.kind === "synced" && outcome.linkedNow) await this.wakeMembers(context, target.localPk);
      return outcome.kind;
    }
    // Kept until a sync completes, so a create retried after a 429 still needs no second search.
    const checkedAt = await this.ctx.storage.get<number>(KEY.absentCheckedAt);
    const outcome = await syncContact(context, target.localPk, {
      companyIdOf: (accountPk) => this.companyIdOf(context, accountPk),
      checkedAbsent: checkedAt !== undefined && Date.now() - checkedAt < ABSENCE_FRESH_MS,
    });
    if (checkedAt !== undefined) await this.ctx.storage.delete(KEY.absentCheckedAt);
    if (outcome.kind === "conflict") return "failed";
    if (outcome.kind === "skipped") return "skipped";
    return outcome.changed === false ? "noop" : "synced";
  }

  /**
   * Counts the pending resync job's outcome for this object (one UPDATE), once per job. A failure to count is logged,
   * not retried: the sync itself is done, and the job's figures are progress, not state.
   */
  private async countForJob(db: Database, outcome: ResyncOutcome): Promise<void> {
    const storage = this.ctx.storage;
    const jobId = await storage.get<string>(KEY.resyncJob);
    if (!jobId) return;
    await storage.delete(KEY.resyncJob);
    await storage.put(KEY.resyncCounted, jobId);
    try {
      await countOutcome(db, jobId, outcome);
    } catch (error) {
      log({ level: "warn", msg: "resync outcome not counted", job_id: jobId, outcome, error: describeError(error) });
    }
  }

  private async runAction(context: SyncContext, target: Target, actionId: string): Promise<void> {
    const action = await startAction(context.db, actionId);
    if (!action) return; // already done or failed: an action runs once
    const subject = await subjectOf(context.db, context.connection.workspaceId, target);
    for (let round = 0; ; round++) {
      const outcome = await syncContact(context, target.localPk, {
        ignoreFilter: true,
        companyIdOf: (accountPk) => this.companyIdOf(context, accountPk),
      });
      if (outcome.kind !== "synced") {
        await finishAction(context, action, { status: "failed", detail: outcome.detail, subject });
        return;
      }
      try {
        const detail = await executeAction(context, action, outcome.contactId);
        await finishAction(context, action, { status: "done", detail, intercomId: outcome.contactId, subject });
        return;
      } catch (error) {
        // The contact was deleted or merged away since it was linked: resolve it again and run the action once more.
        if (round > 0 || !(error instanceof IntercomCallError) || !isContactGone(error.failure)) throw error;
        const user = { pk: target.localPk, userId: subject.objectId, email: subject.email };
        await forgetGoneContact(context, user, outcome.contactId, error);
      }
    }
  }

  /** The Intercom company of an account, through that account's own object (which creates it when allowed). */
  private async companyIdOf(context: SyncContext, accountPk: number): Promise<string | null> {
    const link = await linkByLocal(context.db, context.connection.id, "company", accountPk);
    if (link) return link.intercomId;
    const name = syncObjectName({ connection_id: context.connection.id, kind: "account", local_pk: accountPk });
    const result = await contactSyncObject(this.env, name).ensureCompany(context.connection.id, accountPk);
    if (!result.ok) throw new IntercomCallError(result.failure, result.operation);
    return result.companyId;
  }

  /** A company just appeared in Intercom: members already there can now be attached to it. */
  private async wakeMembers(context: SyncContext, accountPk: number): Promise<void> {
    const members = await usersOfAccount(context.db, accountPk);
    await sendAll(
      this.env.OUTBOUND,
      members.map(
        (member): SyncMessage => ({ kind: "user", connection_id: context.connection.id, local_pk: member.pk }),
      ),
    );
  }

  private async parkHere(target: Target, reason: string, connection: Connection): Promise<void> {
    const storage = this.ctx.storage;
    const db = await tenantDb(this.env, connection.workspaceId);
    await park(db, target.connectionId, { kind: target.kind, localPk: target.localPk });
    // The work waits for a reconnect, outside the job: the job counts it as skipped now.
    await this.countForJob(db, "skipped");
    if (!(await storage.get<boolean>(KEY.parked))) {
      await storage.put(KEY.parked, true);
      await logOut(
        { db, connection },
        {
          ...(await subjectOf(db, connection.workspaceId, target)),
          objectType: objectTypeOf(target),
          action: "sync",
          outcome: "parked",
          detail: reason,
        },
      );
    }
  }

  private async dropAll(target: Target, reason: string, connection: Connection | null): Promise<void> {
    const storage = this.ctx.storage;
    await storage.put(KEY.dirty, false);
    await storage.put(KEY.actionsPending, false);
    if (!connection) {
      log({ msg: "destination work dropped", connection_id: target.connectionId, outcome: "skipped", detail: reason });
      return;
    }
    const db = await tenantDb(this.env, connection.workspaceId);
    await this.countForJob(db, "skipped");
    const actionIds = target.kind === "user" ? await queuedActions(db, connection.id, target.localPk) : [];
    const subject = await subjectOf(db, connection.workspaceId, target);
    for (const actionId of actionIds) {
      const action = await startAction(db, actionId);
      if (action) await finishAction({ db, connection }, action, { status: "failed", detail: reason, subject });
    }
    await logOut(
      { db, connection },
      {
        ...subject,
        objectType: objectTypeOf(target),
        action: "sync",
        outcome: "skipped",
        detail: reason,
      },
    );
  }
}

function objectTypeOf(target: Target): "contact" | "company" {
  return target.kind === "user" ? "contact" : "company";
}

/** How the logs name the object: its CDP id (`user_id`, `account_id`), else its row; the email in its own column. */
async function subjectOf(
  db: Database,
  workspaceId: string,
  target: Target,
): Promise<{ objectId: string; email: string | null }> {
  if (target.kind === "account") {
    const account = await getAccount(db, workspaceId, target.localPk);
    return { objectId: account?.accountId ?? `account#${target.localPk}`, email: null };
  }
  const user = await getUser(db, workspaceId, target.localPk);
  return { objectId: user?.userId ?? `user#${target.localPk}`, email: user?.email ?? null };
}

/** The ContactSync object named `name` (see `syncObjectName`). */
export function contactSyncObject(env: Pick<Env, "CONTACT_SYNC">, name: string): DurableObjectStub<ContactSync> {
  return (env.CONTACT_SYNC as unknown as DurableObjectNamespace<ContactSync>).getByName(name);
}
