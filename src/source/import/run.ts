/**
 * Source import as a job (README, "Import"): brings in what Intercom already holds. A job row (jobs.ts) holds the
 * progress; the work runs in the bulk lane (JOBS queue), one `import_page` message per Intercom page: companies
 * through the scroll API, then contacts through search pages of 150 in creation order, memberships from each
 * contact's embedded `companies` list (one extra call only for a list that `has_more`). Every item goes to INBOUND
 * projected like the reconciliation sweep's (sweep/feed.ts), so the webhook path's dedupe, stale and echo rules apply
 * to it. The cursor is recorded after every page (compare-and-set), and the next page is queued after that.
 */

import type { IntercomClient } from "intercom-client";
import { type Connection, findConnectionById } from "../../connections/repository";
import { connectionToken, markRevoked } from "../../connections/tokens";
import type { Database } from "../../db/client";
import { controlDb, everyDataDb, tenantDb } from "../../db/placement";
import type { ImportOptions, ImportPhaseName } from "../../db/schema";
import type { Env } from "../../env";
import { linksByIntercomIds } from "../../graph/links";
import { budgetedFetch } from "../../intercom/budgeted-fetch";
import { intercomClient } from "../../intercom/client";
import { failureOf } from "../../intercom/errors";
import { listContactCompanies, scrollCompanies, searchContactsCreatedOrder } from "../../intercom/gateway";
import { describeError } from "../../lib/errors";
import { log } from "../../lib/log";
import { sendAll } from "../../lib/queue-batches";
import { type SyncLogEntry, writeSyncLog } from "../../lib/sync-log";
import type { InboundMessage } from "../inbound-message";
import { uncapturedItems } from "../sweep/feed";
import { importedItemMessages } from "./items";
import {
  activeImport,
  endImport,
  type ImportJob,
  importById,
  insertQueuedImport,
  latestImport,
  noteWaiting,
  recordPage,
  stalledImports,
} from "./jobs";
import type { ImportPageMessage } from "./messages";
import { estimatedEventCalls } from "./parts";
import {
  afterPage,
  embeddedCompanyIds,
  importOptions,
  membershipNotification,
  type PageFigures,
  phaseOffReason,
  phasesOf,
  readableItems,
  restartPhase,
  skipPhase,
} from "./plan";
import { countUserContacts } from "./reads";
import { importConversationsPage, importEventsPage, queueContactTags } from "./run-parts";

/** Contacts per search page (Intercom's maximum). */
export const IMPORT_PAGE_SIZE = 150;
const DAY_SECONDS = 86_400;
/** Tries of one page after server errors before the job fails. */
const MAX_SERVER_ATTEMPTS = 5;
/** Tries of the company phase's first page while another scroll of the app is open (the sweep's). */
const MAX_BUSY_SCROLL_ATTEMPTS = 10;
/** An active import without progress for this long is handed its page again by the cron. */
export const IMPORT_STALL_MS = 15 * 60_000;

export type StartImportResult = { ok: true; job: ImportJob } | { ok: false; running: ImportJob };

/**
 * Starts an import of `connection` (connected, source on: the caller checked); an active one is answered instead.
 * With the events phase, its cost in calls is stated first: one search for the number of user contacts (which
 * throws an `IntercomCallError` when Intercom does not answer it).
 */
export async function startImport(
  env: Env,
  connection: Connection,
  options: ImportOptions,
  reason = "requested by an admin",
): Promise<StartImportResult> {
  const db = await tenantDb(env, connection.workspaceId);
  const running = await activeImport(db, connection.id);
  if (running) return { ok: false, running };
  const phases = phasesOf(options, connection.source);
  const events = phases.find((phase) => phase.object === "events" && phase.skipped_reason === undefined);
  if (events) {
    const users = await countUserContacts(await bulkClient(env, connection), afterOf(options.since));
    events.estimated_calls = estimatedEventCalls(users);
    events.calls = 1;
  }
  const job = await insertQueuedImport(db, {
    connectionId: connection.id,
    workspaceId: connection.workspaceId,
    options,
    phases,
  });
  if (!job) {
    // Another start won the race between our read and our insert.
    const winner = await activeImport(db, connection.id);
    if (winner) return { ok: false, running: winner };
    throw new Error("import job neither inserted nor active");
  }
  try {
    await queuePage(env, job, 0);
  } catch (error) {
    await endImport(db, job.id, "failed", `the first page could not be queued: ${describeError(error)}`);
    throw error;
  }
  await writeSyncLog(db, {
    ...rowOf(job),
    outcome: "pending",
    detail: `import started (${reason}): ${job.phases.map((p) => p.object).join(", ")}${options.since === null ? "" : ` updated since ${new Date(options.since * 1000).toISOString()}`}${options.tags ? ", with tags" : ""}${events ? `; events phase estimated at ${events.estimated_calls} calls` : ""}`,
  });
  log({ msg: "import started", connection_id: connection.id, job_id: job.id, outcome: "queued", reason });
  return { ok: true, job };
}

/**
 * Starts the first import of a connection when its source is on and `source.import_on_enable` allows (after a
 * connect, or a settings change that turned the source on); a connection that ever had an import gets none. Never
 * throws: the connect or settings change it follows has succeeded either way. Returns the import started, if any.
 */
export async function autoStartImport(env: Env, connection: Connection): Promise<ImportJob | null> {
  if (connection.status !== "connected" || !connection.source.enabled) return null;
  if (connection.source.import_on_enable === false) return null;
  try {
    const db = await tenantDb(env, connection.workspaceId);
    if (await latestImport(db, connection.id)) return null;
    const result = await startImport(env, connection, importOptions({}), "the source was turned on");
    return result.ok ? result.job : null;
  } catch (error) {
    log({
      level: "error",
      msg: "import not started",
      outcome: "failed",
      connection_id: connection.id,
      error: describeError(error),
    });
    return null;
  }
}

/** Cancels an active import of the connection: its next page does nothing. Null when it was not active. */
export async function cancelImport(
  env: Env,
  connection: { id: string; workspaceId: string },
  importId: string,
): Promise<ImportJob | null> {
  const db = await tenantDb(env, connection.workspaceId);
  const cancelled = await endImport(db, importId, "cancelled", "cancelled by an admin");
  if (cancelled) {
    await writeSyncLog(db, {
      ...rowOf(cancelled),
      outcome: "skipped",
      detail: summaryOf(cancelled, "import cancelled"),
    });
    log({ msg: "import cancelled", connection_id: connection.id, job_id: importId, outcome: "cancelled" });
  }
  return cancelled;
}

/** Detail of an import that stopped on a 401 or a connection that is not connected; a reconnect resumes it. */
export const WAITING_FOR_RECONNECT = "waiting for a reconnect";

/** Hands an import waiting for a reconnect its page again (the connection works again): it continues from there. */
export async function resumeImport(env: Env, connection: { id: string; workspaceId: string }): Promise<boolean> {
  const db = await tenantDb(env, connection.workspaceId);
  const job = await activeImport(db, connection.id);
  if (!job?.detail?.startsWith(WAITING_FOR_RECONNECT)) return false;
  await noteWaiting(db, job.id, "resumed after a reconnect");
  await queuePage(env, job, 0);
  log({ msg: "import resumed", connection_id: connection.id, job_id: job.id, outcome: "queued" });
  return true;
}

/**
 * The cron's part: an active import whose page message was lost (a crash between recording a page and queuing the
 * next) gets it again. A page message that arrives twice is recorded once, so this is safe to repeat.
 */
export async function kickStalledImports(env: Env, now = Date.now()): Promise<number> {
  let kicked = 0;
  for (const db of everyDataDb(env)) {
    for (const job of await stalledImports(db, now - IMPORT_STALL_MS)) {
      if (job.detail?.startsWith(WAITING_FOR_RECONNECT)) continue;
      await queuePage(env, job, 0);
      kicked++;
    }
  }
  if (kicked > 0) log({ level: "warn", msg: "stalled imports queued again", outcome: "retrying", jobs: kicked });
  return kicked;
}

/** One page of an import (an `import_page` message). A page already recorded, or of an ended job, does nothing. */
export async function runImportPage(env: Env, message: ImportPageMessage): Promise<void> {
  const control = controlDb(env);
  const connection = await findConnectionById(control, message.connection_id);
  if (!connection) return;
  const db = await tenantDb(env, connection.workspaceId);
  const job = await importById(db, connection.id, message.job_id);
  if (!job || (job.state !== "queued" && job.state !== "running") || job.page !== message.page || !job.phase) {
    log({
      msg: "import page skipped: job not active or page already recorded",
      connection_id: connection.id,
      job_id: message.job_id,
      outcome: "skipped",
    });
    return;
  }
  if (!connection.source.enabled) {
    const ended = await endImport(db, job.id, "failed", "the source was switched off");
    if (ended)
      await writeSyncLog(db, {
        ...rowOf(ended),
        outcome: "failed",
        detail: summaryOf(ended, "import stopped: the source was switched off"),
      });
    return;
  }
  if (connection.status !== "connected" || !connection.appId || !connection.tokenJwe) {
    await noteWaiting(db, job.id, `${WAITING_FOR_RECONNECT}: the connection is ${connection.status}`);
    return;
  }
  const offReason = phaseOffReason(connection.source, job.phase);
  if (offReason !== null) {
    // The setting was turned off after the start: the phase is skipped, the import goes on.
    const recorded = await recordPage(db, job.id, job.page, skipPhase(job, offReason));
    if (recorded) {
      await writeSyncLog(db, {
        ...rowOf(job),
        outcome: "skipped",
        detail: `import: ${job.phase} skipped (${offReason})`,
      });
      await afterRecorded(env, db, connection, job, recorded);
    }
    return;
  }
  let read: PageRead;
  try {
    const client = await bulkClient(env, connection);
    read =
      job.phase === "companies"
        ? await importCompaniesPage(env, db, client, connection, job)
        : job.phase === "contacts"
          ? await importContactsPage(env, db, client, connection, job)
          : job.phase === "conversations"
            ? await importConversationsPage(env, client, connection, job)
            : await importEventsPage(env, client, connection, job);
  } catch (error) {
    await pageFailed(env, { db, control }, connection, job, message, error);
    return;
  }
  const recorded = await recordPage(db, job.id, job.page, afterPage(job, read.figures));
  if (!recorded) {
    log({ msg: "import page already recorded", connection_id: connection.id, job_id: job.id, outcome: "skipped" });
    return;
  }
  await writeSyncLog(db, {
    ...rowOf(job),
    outcome: read.queued > 0 ? "pending" : "skipped",
    detail:
      `import page ${job.page + 1} (${job.phase}): ${read.figures.read} read, ${read.queued} queued for capture, ` +
      `${read.figures.skipped} already captured, ${read.figures.failed} unreadable` +
      (read.memberships > 0 ? `, ${read.memberships} memberships queued` : "") +
      (read.detail ? `; ${read.detail}` : ""),
  });
  for (const id of read.failedIds) {
    await writeSyncLog(db, {
      ...rowOf(job),
      outcome: "failed",
      objectType: job.phase === "companies" ? "account" : job.phase === "conversations" ? "event" : "user",
      intercomId: id,
      detail: FAILED_ITEM_DETAIL[job.phase],
    });
  }
  await afterRecorded(env, db, connection, job, recorded);
}

/** After a recorded page: the final row and log when the job is done, else the next page queued. */
async function afterRecorded(
  env: Env,
  db: Database,
  connection: Connection,
  job: ImportJob,
  recorded: ImportJob,
): Promise<void> {
  if (recorded.state === "done") {
    await writeSyncLog(db, { ...rowOf(recorded), outcome: "pending", detail: summaryOf(recorded, "import done") });
    log({ msg: "import done", connection_id: connection.id, job_id: job.id, outcome: "done", pages: recorded.page });
    return;
  }
  await queuePage(env, recorded, 0);
}

/** The connection's Intercom client in the bulk lane of its rate budget. */
async function bulkClient(env: Env, connection: Connection): Promise<IntercomClient> {
  const token = await connectionToken(env, controlDb(env), connection);
  return intercomClient(env, {
    token: token!,
    region: connection.region,
    fetch: budgetedFetch(env, connection.appId!, "bulk"),
  });
}

/** The search bound of `since`: Intercom matches dates by day, so a day earlier; the exact bound is applied after. */
function afterOf(since: number | null): number {
  return since === null ? 0 : since - DAY_SECONDS;
}

/** Why an item of a phase counted as failed, for its sync-log row. */
const FAILED_ITEM_DETAIL: Record<ImportPhaseName, string> = {
  companies: "import: the item has no valid updated_at and was not captured",
  contacts: "import: the item has no valid updated_at and was not captured",
  conversations: "import: the conversation has no valid id or created_at and was not captured",
  events: "import: the contact was gone when its events were listed",
};

interface PageRead {
  figures: PageFigures;
  queued: number;
  memberships: number;
  failedIds: string[];
  /** What the page's sync-log row adds. */
  detail?: string;
}

async function importCompaniesPage(
  env: Env,
  db: Database,
  client: IntercomClient,
  connection: Connection,
  job: ImportJob,
): Promise<PageRead> {
  const answer = await scrollCompanies(client, job.cursor);
  const { readable, failedIds } = readableItems(answer.items);
  const fresh = await uncaptured(db, connection, "company", readable);
  const now = Date.now();
  await sendAll(
    env.INBOUND,
    fresh.map(({ item, updatedAt }) => importedItemMessages(connection.appId!, "company", item, updatedAt, now)[0]!),
  );
  const phase = job.phases.find((p) => p.object === "companies");
  const readSoFar = (phase?.done ?? 0) + answer.items.length;
  // The scroll ends with an empty page; knowing the total saves that call.
  const last =
    answer.items.length === 0 || answer.next === null || (answer.total !== null && readSoFar >= answer.total);
  return {
    figures: {
      read: answer.items.length,
      skipped: readable.length - fresh.length,
      failed: failedIds.length,
      calls: 1,
      total: answer.total,
      next: last ? null : answer.next,
    },
    queued: fresh.length,
    memberships: 0,
    failedIds,
  };
}

async function importContactsPage(
  env: Env,
  db: Database,
  client: IntercomClient,
  connection: Connection,
  job: ImportJob,
): Promise<PageRead> {
  const since = job.options.since;
  const answer = await searchContactsCreatedOrder(client, {
    after: since === null ? 0 : since - DAY_SECONDS,
    startingAfter: job.cursor,
    perPage: IMPORT_PAGE_SIZE,
  });
  const { readable, failedIds } = readableItems(answer.items);
  // Intercom matches dates by day: the exact lower bound is applied here.
  const inRange = since === null ? readable : readable.filter((item) => Number(item.updated_at) >= since);
  const now = Date.now();
  const appId = connection.appId!;
  const fresh = new Set((await uncaptured(db, connection, "contact", inRange)).map(({ item }) => item));
  const { capture_relationships: relationships, create_users_from_contacts: users } = connection.source;
  let calls = 1;
  let memberships = 0;
  const messages: InboundMessage[] = [];
  for (const contact of inRange) {
    let companyIds: string[] = [];
    if (relationships) {
      const embedded = embeddedCompanyIds(contact);
      companyIds = embedded.ids;
      if (embedded.hasMore) {
        const all = await listContactCompanies(client, String(contact.id));
        calls += all.calls;
        companyIds = all.ids;
      }
    }
    memberships += companyIds.length;
    if (!users) {
      // Contacts are not captured: their memberships still are, for users the CDP already has.
      for (const id of companyIds) messages.push(membershipNotification(appId, contact, id, now));
      continue;
    }
    // A contact captured already (by a webhook, the sweep) still brings its memberships.
    if (!fresh.has(contact) && companyIds.length === 0) continue;
    messages.push(...importedItemMessages(appId, "contact", contact, Number(contact.updated_at), now, companyIds));
  }
  await sendAll(env.INBOUND, messages);
  const tags = job.options.tags ? await queueContactTags(env, client, connection.appId!, inRange, now) : null;
  calls += tags?.calls ?? 0;
  return {
    figures: {
      read: inRange.length + failedIds.length,
      skipped: inRange.length - fresh.size,
      failed: failedIds.length,
      calls,
      total: answer.total,
      next: answer.next,
    },
    queued: fresh.size,
    memberships,
    failedIds,
    ...(tags ? { detail: `${tags.queued} tag lists queued` } : {}),
  };
}

/** The items of a page not captured in their current state yet (one link lookup for the page). */
async function uncaptured(
  db: Database,
  connection: Connection,
  kind: "contact" | "company",
  items: ReadonlyArray<Record<string, unknown>>,
): Promise<Array<{ item: Record<string, unknown>; updatedAt: number }>> {
  const links = await linksByIntercomIds(
    db,
    connection.id,
    kind,
    items.map((item) => String(item.id)),
  );
  return uncapturedItems(items, 0, new Map([...links].map(([id, link]) => [id, link.remoteUpdatedAt]))).fresh;
}

/** What a failed page means for its job: wait for a reconnect, try again later, start the scroll over, or fail. */
async function pageFailed(
  env: Env,
  dbs: { db: Database; control: Database },
  connection: Connection,
  job: ImportJob,
  message: ImportPageMessage,
  error: unknown,
): Promise<void> {
  const failure = failureOf(error);
  const attempt = message.attempt ?? 0;
  const fields = { connection_id: connection.id, job_id: job.id, phase: job.phase, page: job.page + 1 };
  if (failure.kind === "unauthorized") {
    await markRevoked(dbs.control, connection, `Intercom answered 401 to the import: ${failure.message}`);
    await noteWaiting(dbs.db, job.id, `${WAITING_FOR_RECONNECT}: Intercom answered 401`);
    await writeSyncLog(dbs.db, {
      ...rowOf(job),
      outcome: "failed",
      detail: `import page ${job.page + 1} refused (401): the import continues from this page after a reconnect`,
    });
    log({ level: "warn", msg: "import waits for a reconnect", outcome: "parked", ...fields });
    return;
  }
  if (failure.kind === "rate_limited") {
    const waitSeconds = failure.resetAt === null ? 10 : Math.ceil((failure.resetAt - Date.now()) / 1000);
    await queuePage(env, job, attempt, Math.min(300, Math.max(1, waitSeconds)));
    log({ msg: "import page rate limited; queued again", outcome: "retrying", ...fields });
    return;
  }
  if (job.phase === "companies" && job.cursor !== null && failure.kind === "not_found") {
    // The scroll expired (unused for a minute): the companies are scrolled again from the start.
    const recorded = await recordPage(dbs.db, job.id, job.page, restartPhase(job, 1));
    if (recorded) {
      await writeSyncLog(dbs.db, {
        ...rowOf(job),
        outcome: "retrying",
        detail:
          "import: the company scroll expired; companies are read again from the start (captured ones are skipped)",
      });
      await queuePage(env, recorded, 0);
    }
    log({ level: "warn", msg: "import scroll expired; restarted", outcome: "retrying", ...fields });
    return;
  }
  const busyScroll = failure.kind === "invalid" && /scroll already exists/i.test(failure.message);
  const limit = busyScroll ? MAX_BUSY_SCROLL_ATTEMPTS : MAX_SERVER_ATTEMPTS;
  if ((busyScroll || failure.kind === "server") && attempt + 1 < limit) {
    if (busyScroll) await noteWaiting(dbs.db, job.id, "waiting for another company scroll of this workspace to end");
    await queuePage(env, job, attempt + 1, busyScroll ? 60 : 30 * (attempt + 1));
    log({
      level: "warn",
      msg: "import page failed; queued again",
      outcome: "retrying",
      ...fields,
      error: failure.message,
    });
    return;
  }
  const ended = await endImport(
    dbs.db,
    job.id,
    "failed",
    `page ${job.page + 1} (${job.phase}) failed: ${failure.message}`,
  );
  if (ended) {
    await writeSyncLog(dbs.db, {
      ...rowOf(ended),
      outcome: "failed",
      detail: summaryOf(ended, `import failed on page ${job.page + 1}: ${failure.message}`),
    });
  }
  log({ level: "warn", msg: "import failed", outcome: "failed", ...fields, error: failure.message });
}

async function queuePage(env: Env, job: ImportJob, attempt: number, delaySeconds?: number): Promise<void> {
  const body: ImportPageMessage = {
    kind: "import_page",
    job_id: job.id,
    connection_id: job.connectionId,
    page: job.page,
    attempt,
  };
  await env.JOBS.send(body, delaySeconds ? { delaySeconds } : undefined);
}

function rowOf(job: ImportJob): SyncLogEntry {
  return {
    connectionId: job.connectionId,
    workspaceId: job.workspaceId,
    direction: "in",
    outcome: "pending",
    objectType: "connection",
    action: "import",
  };
}

/** The job's figures in one line, for its final sync-log row. */
function summaryOf(job: ImportJob, headline: string): string {
  const phases = job.phases
    .map(
      (p) =>
        `${p.object}: ${p.done} read of ${p.total ?? "?"}, ${p.skipped} already captured, ${p.failed} failed, ${p.calls} calls`,
    )
    .join("; ");
  return `${headline}: ${phases}`;
}
