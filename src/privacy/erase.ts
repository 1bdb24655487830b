/**
 * Erasure of a CDP person (README, Privacy). The request removes the user row at once (so reads answer 404 and every
 * sync or action still queued for that row finds nobody), records the erasure, and queues its job on JOBS. The job
 * then runs one bounded page per message: the person's ContactSync objects (pending work dropped, the contact
 * archived/deleted as `on_erase` says), queued and done actions, events, memberships and parked work, then scrubs
 * the sync log and dead letters, replacing the email, CDP id and Intercom ids by the person's digest. When the last
 * step is done the erasure row forgets the identifiers it was working from and remains as the audit record.
 */
import { and, desc, eq, inArray, lt, or, type SQL, sql } from "drizzle-orm";
import { listConnections } from "../connections/repository";
import type { Database } from "../db/client";
import { controlDb, tenantDb } from "../db/placement";
import {
  actions,
  type ErasureOrigin,
  type ErasureStep,
  type ErasureSubjects,
  erasures,
  events,
  intercomLinks,
  memberships,
  parkedSyncs,
  users,
} from "../db/schema";
import { contactSyncObject } from "../destination/contact-sync";
import { syncObjectName } from "../destination/outbound-message";
import type { Env } from "../env";
import { findUser, normalizeEmail } from "../graph/users";
import { log } from "../lib/log";
import { personDigest } from "./digest";
import type { EraseMessage } from "./messages";

export type ErasureRow = typeof erasures.$inferSelect;

/** The job's steps, in order. */
export const ERASURE_STEPS = ["contacts", "actions", "events", "graph", "sync_logs", "dead_letters"] as const;
type StepName = (typeof ERASURE_STEPS)[number];

/** Rows per statement, and statements per page: a page stays far below D1's per-invocation limits. */
const ROWS_PER_STATEMENT = 500;
const STATEMENTS_PER_PAGE = 40;
/** Intercom ids per connection that a scrub names (bound parameters stay under D1's 100). */
const MAX_SCRUBBED_CONTACTS = 15;
/** A running erasure untouched this long lost its message: housekeeping queues its page again. */
const STALE_ERASURE_MS = 10 * 60_000;

/** Who asked for an erasure (the audit row keeps it; it never names the erased person). */
export interface ErasureRequest {
  origin: ErasureOrigin;
  requestedBy: string | null;
  /** An Intercom deletion: this connection's contact is already gone, nothing is sent back for it. */
  quietConnectionId?: string;
}

/**
 * Starts erasing the person `identity` names in `workspaceId`, or returns the erasure already doing it. Idempotent:
 * while an erasure of the same person runs, asking again returns it; once done, asking again returns the finished one
 * unless the person was identified again since (a new person, erased anew).
 */
export async function startErasure(
  env: Env,
  workspaceId: string,
  identity: { userId?: string | null; email?: string | null },
  request: ErasureRequest,
): Promise<{ erasure: ErasureRow; created: boolean }> {
  const db = await tenantDb(env, workspaceId);
  const user = await findUser(db, workspaceId, identity);
  const named = user ? { userId: user.userId, email: user.email } : identity;
  const digest = await personDigest(env, workspaceId, named);
  const email = normalizeEmail(named.email);
  const emailDigest = email ? await personDigest(env, workspaceId, { email }) : null;
  const askedEmail = normalizeEmail(identity.email);
  const askedEmailDigest = askedEmail ? await personDigest(env, workspaceId, { email: askedEmail }) : null;
  const previous = await db
    .select()
    .from(erasures)
    .where(
      and(
        eq(erasures.workspaceId, workspaceId),
        askedEmailDigest
          ? or(eq(erasures.digest, digest), eq(erasures.emailDigest, askedEmailDigest))
          : eq(erasures.digest, digest),
      ),
    )
    .orderBy(desc(erasures.createdAt))
    .limit(1)
    .get();
  if (previous && (previous.state === "running" || !user)) return { erasure: previous, created: false };

  const connectionIds = (await listConnections(controlDb(env), workspaceId)).map((connection) => connection.id);
  const contacts: Record<string, string[]> = {};
  if (user && connectionIds.length > 0) {
    const links = await db
      .select({ connectionId: intercomLinks.connectionId, intercomId: intercomLinks.intercomId })
      .from(intercomLinks)
      .where(
        and(
          inArray(intercomLinks.connectionId, connectionIds.slice(0, 90)),
          eq(intercomLinks.objectType, "contact"),
          eq(intercomLinks.localPk, user.pk),
        ),
      );
    for (const link of links) contacts[link.connectionId] = [...(contacts[link.connectionId] ?? []), link.intercomId];
  }
  const subjects: ErasureSubjects = {
    userPk: user?.pk ?? null,
    userId: named.userId ?? null,
    email: normalizeEmail(named.email),
    contacts,
    ...(request.quietConnectionId ? { quietConnectionId: request.quietConnectionId } : {}),
  };
  const now = Date.now();
  const row: ErasureRow = {
    id: crypto.randomUUID(),
    workspaceId,
    digest,
    emailDigest,
    origin: request.origin,
    requestedBy: request.requestedBy,
    state: "running",
    steps: ERASURE_STEPS.map((name): ErasureStep => ({ name, state: "pending", count: 0 })),
    subjects,
    seq: 0,
    createdAt: now,
    updatedAt: now,
    finishedAt: null,
  };
  // One batch: from the moment the erasure exists, the person is gone for every reader and every queued sync.
  await db.batch([
    db.insert(erasures).values(row),
    ...(user ? [db.delete(users).where(and(eq(users.workspaceId, workspaceId), eq(users.pk, user.pk)))] : []),
  ]);
  log({
    msg: "erasure started",
    outcome: "running",
    workspace_id: workspaceId,
    erasure_id: row.id,
    digest,
    origin: request.origin,
  });
  await env.JOBS.send({ kind: "erase", workspace_id: workspaceId, erasure_id: row.id, seq: 0 });
  return { erasure: row, created: true };
}

/** An erasure of the workspace, by id. */
export async function getErasure(env: Env, workspaceId: string, id: string): Promise<ErasureRow | null> {
  const db = await tenantDb(env, workspaceId);
  return (
    (await db
      .select()
      .from(erasures)
      .where(and(eq(erasures.workspaceId, workspaceId), eq(erasures.id, id)))
      .get()) ?? null
  );
}

interface StepContext {
  env: Env;
  db: Database;
  erasure: ErasureRow;
  subjects: ErasureSubjects;
  connectionIds: string[];
  /** Statements left in this page. */
  budget: { left: number };
}

interface StepResult {
  count: number;
  done: boolean;
}

/** Runs one page of an erasure's job (a JOBS message); a stale or duplicate message does nothing. */
export async function runErasurePage(env: Env, message: EraseMessage): Promise<void> {
  const db = await tenantDb(env, message.workspace_id);
  const erasure = await db.select().from(erasures).where(eq(erasures.id, message.erasure_id)).get();
  if (erasure?.state !== "running" || erasure.seq !== message.seq || !erasure.subjects) return;
  const step = erasure.steps.find((candidate) => candidate.state === "pending");
  let result: StepResult = { count: 0, done: true };
  if (step) {
    const connections = await listConnections(controlDb(env), erasure.workspaceId);
    result = await STEPS[step.name as StepName]({
      env,
      db,
      erasure,
      subjects: erasure.subjects,
      connectionIds: connections.map((connection) => connection.id),
      budget: { left: STATEMENTS_PER_PAGE },
    });
  }
  const steps = erasure.steps.map(
    (candidate): ErasureStep =>
      candidate === step
        ? { ...candidate, count: candidate.count + result.count, state: result.done ? "done" : "pending" }
        : candidate,
  );
  const finished = steps.every((candidate) => candidate.state === "done");
  const now = Date.now();
  const saved = await db
    .update(erasures)
    .set({
      steps,
      seq: erasure.seq + 1,
      updatedAt: now,
      ...(finished ? { state: "done" as const, finishedAt: now, subjects: null } : {}),
    })
    .where(and(eq(erasures.id, erasure.id), eq(erasures.seq, erasure.seq)))
    .run();
  if (saved.meta.changes === 0) return;
  log({
    msg: finished ? "erasure done" : "erasure page done",
    outcome: finished ? "done" : "running",
    workspace_id: erasure.workspaceId,
    erasure_id: erasure.id,
    digest: erasure.digest,
    step: step?.name ?? null,
    count: result.count,
  });
  if (!finished) await queueNextPage(env, erasure.workspaceId, erasure.id, erasure.seq + 1);
}

async function queueNextPage(env: Env, workspaceId: string, erasureId: string, seq: number): Promise<void> {
  await env.JOBS.send({ kind: "erase", workspace_id: workspaceId, erasure_id: erasureId, seq });
}

/** Housekeeping: queues again the page of running erasures that made no progress for a while (a lost message). */
export async function resumeStaleErasures(env: Env, db: Database, now: number): Promise<number> {
  const stale = await db
    .select({ id: erasures.id, workspaceId: erasures.workspaceId, seq: erasures.seq })
    .from(erasures)
    .where(and(eq(erasures.state, "running"), lt(erasures.updatedAt, now - STALE_ERASURE_MS)))
    .limit(50);
  for (const row of stale) await queueNextPage(env, row.workspaceId, row.id, row.seq);
  return stale.length;
}

const STEPS: Readonly<Record<StepName, (ctx: StepContext) => Promise<StepResult>>> = {
  contacts: eraseContacts,
  actions: (ctx) =>
    deleteInPages(ctx, (connectionId, userPk) =>
      ctx.db.delete(actions).where(
        inArray(
          actions.id,
          ctx.db
            .select({ id: actions.id })
            .from(actions)
            .where(and(eq(actions.connectionId, connectionId), eq(actions.userPk, userPk)))
            .limit(ROWS_PER_STATEMENT),
        ),
      ),
    ),
  events: (ctx) =>
    deleteInPages(
      ctx,
      (_connectionId, userPk) =>
        ctx.db
          .delete(events)
          .where(
            inArray(
              events.pk,
              ctx.db.select({ pk: events.pk }).from(events).where(eq(events.userPk, userPk)).limit(ROWS_PER_STATEMENT),
            ),
          ),
      { perConnection: false },
    ),
  graph: async (ctx) => {
    const memberships_ = await deleteInPages(
      ctx,
      (_connectionId, userPk) => ctx.db.delete(memberships).where(eq(memberships.userPk, userPk)),
      { perConnection: false },
    );
    if (!memberships_.done) return memberships_;
    const parked = await deleteInPages(ctx, (connectionId, userPk) =>
      ctx.db
        .delete(parkedSyncs)
        .where(
          and(
            eq(parkedSyncs.connectionId, connectionId),
            eq(parkedSyncs.kind, "user"),
            eq(parkedSyncs.localPk, userPk),
          ),
        ),
    );
    if (!parked.done) return { count: memberships_.count + parked.count, done: false };
    // A link saved after the contacts step (a batch search that read the user before it was deleted) goes too.
    const links = await deleteInPages(ctx, (connectionId, userPk) =>
      ctx.db
        .delete(intercomLinks)
        .where(
          and(
            eq(intercomLinks.connectionId, connectionId),
            eq(intercomLinks.objectType, "contact"),
            eq(intercomLinks.localPk, userPk),
          ),
        ),
    );
    return { count: memberships_.count + parked.count + links.count, done: links.done };
  },
  sync_logs: scrubSyncLogs,
  dead_letters: scrubDeadLetters,
};

/** Each of the person's ContactSync objects erases the person on its connection (see erase-contact.ts). */
async function eraseContacts(ctx: StepContext): Promise<StepResult> {
  const { subjects, erasure } = ctx;
  if (subjects.userPk === null) return { count: 0, done: true };
  let count = 0;
  for (const connectionId of ctx.connectionIds) {
    const name = syncObjectName({ connection_id: connectionId, kind: "user", local_pk: subjects.userPk });
    const result = await contactSyncObject(ctx.env, name).erase({
      erasureId: erasure.id,
      workspaceId: erasure.workspaceId,
      connectionId,
      localPk: subjects.userPk,
      contactIds: subjects.contacts[connectionId] ?? [],
      digest: erasure.digest,
      quiet: subjects.quietConnectionId === connectionId,
    });
    // Thrown: the queue retries this page (the objects already done answer again without sending anything twice).
    if (!result.ok) throw new Error(`erasure ${erasure.id}: ${result.detail}`);
    count += result.contacts;
  }
  return { count, done: true };
}

/** Runs a bounded delete until it removes fewer rows than a statement's page, per connection unless said. */
async function deleteInPages(
  ctx: StepContext,
  statement: (connectionId: string, userPk: number) => { run: () => Promise<D1Result> },
  options: { perConnection?: boolean } = {},
): Promise<StepResult> {
  const userPk = ctx.subjects.userPk;
  if (userPk === null) return { count: 0, done: true };
  const scopes = options.perConnection === false ? [""] : ctx.connectionIds;
  let count = 0;
  for (const connectionId of scopes) {
    for (;;) {
      if (ctx.budget.left <= 0) return { count, done: false };
      ctx.budget.left--;
      const result = await statement(connectionId, userPk).run();
      count += result.meta.changes;
      if (result.meta.changes < ROWS_PER_STATEMENT) break;
    }
  }
  return { count, done: true };
}

/** The values that name the person, by where they appear. */
function namesOf(subjects: ErasureSubjects, connectionId: string) {
  const contacts = (subjects.contacts[connectionId] ?? []).slice(0, MAX_SCRUBBED_CONTACTS);
  const objectIds = [subjects.userId, subjects.userPk !== null ? `user#${subjects.userPk}` : null, ...contacts].filter(
    (value): value is string => Boolean(value),
  );
  // In free text only values long enough not to match inside unrelated words.
  const inText = [subjects.email, subjects.userId && subjects.userId.length >= 8 ? subjects.userId : null, ...contacts];
  return {
    contacts,
    objectIds,
    email: subjects.email,
    inText: inText.filter((value): value is string => Boolean(value)),
  };
}

/** `replace(replace(column, a, digest), b, digest)…`: each value replaced by the digest. */
function replaced(column: SQL, values: readonly string[], digest: string): SQL {
  return values.reduce<SQL>((text, value) => sql`replace(${text}, ${value}, ${digest})`, column);
}

/** Sync-log rows that name the person get the digest in place of the email, the CDP id and the Intercom ids. */
async function scrubSyncLogs(ctx: StepContext): Promise<StepResult> {
  const { db, erasure } = ctx;
  const digest = erasure.digest;
  let count = 0;
  for (const connectionId of ctx.connectionIds) {
    const names = namesOf(ctx.subjects, connectionId);
    const probes: Array<[SQL, string]> = [
      ...names.objectIds.map((value): [SQL, string] => [sql`object_id`, value]),
      ...(names.email ? [[sql`email`, names.email] as [SQL, string]] : []),
      ...names.contacts.map((value): [SQL, string] => [sql`intercom_id`, value]),
    ];
    const objectIds = names.objectIds.length
      ? sql.join(
          names.objectIds.map((value) => sql`${value}`),
          sql`, `,
        )
      : null;
    const contactIds = names.contacts.length
      ? sql.join(
          names.contacts.map((value) => sql`${value}`),
          sql`, `,
        )
      : null;
    for (const [column, value] of probes) {
      for (;;) {
        if (ctx.budget.left <= 0) return { count, done: false };
        ctx.budget.left--;
        const result = await db.run(sql`
          UPDATE sync_logs SET
            object_id = ${objectIds ? sql`CASE WHEN object_id IN (${objectIds}) THEN ${digest} ELSE object_id END` : sql`object_id`},
            email = ${names.email ? sql`CASE WHEN email = ${names.email} THEN ${digest} ELSE email END` : sql`email`},
            intercom_id = ${contactIds ? sql`CASE WHEN intercom_id IN (${contactIds}) THEN ${digest} ELSE intercom_id END` : sql`intercom_id`},
            detail = ${replaced(sql`detail`, names.inText, digest)}
          WHERE id IN (
            SELECT id FROM sync_logs WHERE connection_id = ${connectionId} AND ${column} = ${value}
            LIMIT ${ROWS_PER_STATEMENT}
          )`);
        count += result.meta.changes;
        if (result.meta.changes < ROWS_PER_STATEMENT) break;
      }
    }
  }
  return { count, done: true };
}

/** Dead-letter bodies (JSON) that name the person get the digest in place of each JSON string that did. */
async function scrubDeadLetters(ctx: StepContext): Promise<StepResult> {
  const { db, erasure } = ctx;
  const pageSize = 200;
  let count = 0;
  for (const connectionId of ctx.connectionIds) {
    const names = namesOf(ctx.subjects, connectionId);
    // Whole JSON strings only (`"value"`): a short id never matches inside another value.
    const quoted = [...new Set([...names.objectIds, ...(names.email ? [names.email] : [])])]
      .filter((value) => !value.startsWith("user#"))
      .map((value) => JSON.stringify(value));
    if (quoted.length === 0) continue;
    const mentions = sql.join(
      quoted.map((value) => sql`instr(body, ${value}) > 0`),
      sql` OR `,
    );
    for (;;) {
      if (ctx.budget.left <= 0) return { count, done: false };
      ctx.budget.left--;
      const result = await db.run(sql`
        UPDATE dead_letters SET body = ${replaced(sql`body`, quoted, JSON.stringify(erasure.digest))}
        WHERE id IN (
          SELECT id FROM dead_letters WHERE connection_id = ${connectionId} AND (${mentions}) LIMIT ${pageSize}
        )`);
      count += result.meta.changes;
      if (result.meta.changes < pageSize) break;
    }
  }
  return { count, done: true };
}
