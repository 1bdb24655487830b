/**
 * The D1 schema, single source of truth: `npm run db:generate` writes the SQL in `migrations/` from this file,
 * and a test fails when the two drift apart.
 *
 * Times are Unix milliseconds (integers) unless a column name says otherwise.
 * JSON columns hold text; their TypeScript shape is given with `$type`.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** Settings of the Intercom → CDP direction (README, Connection settings). */
export interface SourceSettings {
  enabled: boolean;
  capture_chat_events: boolean;
  capture_user_events: boolean;
  create_users_from_contacts: boolean;
  create_accounts_from_companies: boolean;
  capture_relationships: boolean;
  /** What an Intercom `contact.deleted` does to the CDP person: `unlink` (default) or `erase` (README, Privacy). */
  on_contact_deleted?: "unlink" | "erase";
  /** Start an import the first time the source is on for a connection (README, Import); absent means true. */
  import_on_enable?: boolean;
}

/** One custom mapping: a CDP property to an Intercom attribute, coerced to `type`. */
export interface FieldMapping {
  from: string;
  to: string;
  type: "string" | "integer" | "float" | "boolean" | "date" | "datetime";
}

/** Settings of the CDP → Intercom direction (README, Connection settings). */
export interface DestinationSettings {
  enabled: boolean;
  segments: string[];
  allow_create: boolean;
  mappings: { contact: FieldMapping[]; company: FieldMapping[] };
  /** What erasing a CDP person does to its Intercom contact: `none` (default), `archive` or `delete`. */
  on_erase?: "none" | "archive" | "delete";
  /** A mapped property removed in the CDP clears the Intercom attribute (default false). */
  clear_removed?: boolean;
}

export type ConnectionStatus = "connected" | "revoked" | "error" | "disconnected";
export type Region = "US" | "EU" | "AU";

/** A CDP workspace's link to one Intercom workspace (app). */
export const connections = sqliteTable(
  "connections",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    name: text("name").notNull(),
    status: text("status").$type<ConnectionStatus>().notNull(),
    statusDetail: text("status_detail"),
    /** Intercom `app.id_code`: the webhook envelope's `app_id`. */
    appId: text("app_id"),
    appName: text("app_name"),
    region: text("region").$type<Region>().notNull().default("US"),
    /** The access token as a compact JWE (dir + A256GCM); null once disconnected. */
    tokenJwe: text("token_jwe"),
    source: text("source", { mode: "json" }).$type<SourceSettings>().notNull(),
    destination: text("destination", { mode: "json" }).$type<DestinationSettings>().notNull(),
    /** Bumped by every settings write: PATCHes compare-and-set on it so none is lost. */
    version: integer("version").notNull().default(0),
    /** Upper bound of the last reconciliation sweep (Intercom `updated_at`, Unix seconds). */
    sweptUntil: integer("swept_until"),
    /** Lower bound of the next company sweep (Unix seconds): companies are scrolled about hourly, not searched. */
    companiesSweptUntil: integer("companies_swept_until"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("connections_workspace").on(t.workspaceId),
    uniqueIndex("connections_app").on(t.appId),
    // The sweep cron lists connected connections.
    index("connections_status").on(t.status),
  ],
);

/** Single-use nonces of OAuth `state` JWTs. */
export const oauthStates = sqliteTable("oauth_states", {
  nonce: text("nonce").primaryKey(),
  workspaceId: text("workspace_id").notNull(),
  expiresAt: integer("expires_at").notNull(),
  usedAt: integer("used_at"),
});

/**
 * Control database: which data database holds each CDP workspace's data (users, accounts, events, links, logs…),
 * written once on the workspace's first use and changed only when an operator moves the workspace.
 */
export const placements = sqliteTable("placements", {
  workspaceId: text("workspace_id").primaryKey(),
  /** The D1 binding name of the data database, one of `DATA_DATABASES`. */
  database: text("database").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** CDP users (the identity graph); `user_id` is the CDP's id, sent to Intercom as `external_id`. */
export const users = sqliteTable(
  "users",
  {
    pk: integer("pk").primaryKey({ autoIncrement: true }),
    workspaceId: text("workspace_id").notNull(),
    userId: text("user_id"),
    /** Lower-cased. */
    email: text("email"),
    properties: text("properties", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
    segments: text("segments", { mode: "json" }).$type<string[]>().notNull().default([]),
    /** Bumped by every write: concurrent writers compare-and-set on it. */
    version: integer("version").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("users_workspace_user_id").on(t.workspaceId, t.userId),
    index("users_workspace_email").on(t.workspaceId, t.email),
    // A person known only by email is one row, however many writers race to create it.
    uniqueIndex("users_workspace_email_only").on(t.workspaceId, t.email).where(sql`user_id IS NULL`),
    index("users_workspace_pk").on(t.workspaceId, t.pk),
  ],
);

/** CDP accounts; `account_id` is the CDP's id, sent to Intercom as `company_id`. */
export const accounts = sqliteTable(
  "accounts",
  {
    pk: integer("pk").primaryKey({ autoIncrement: true }),
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id").notNull(),
    name: text("name"),
    properties: text("properties", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
    version: integer("version").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("accounts_workspace_account_id").on(t.workspaceId, t.accountId)],
);

/** User ↔ account membership. A WITHOUT ROWID table (migration 0006): a new membership writes 2 rows, not 3. */
export const memberships = sqliteTable(
  "memberships",
  {
    userPk: integer("user_pk").notNull(),
    accountPk: integer("account_pk").notNull(),
    workspaceId: text("workspace_id").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userPk, t.accountPk] }), index("memberships_account").on(t.accountPk)],
);

export type IntercomObjectType = "contact" | "company";

/**
 * The identity map: which Intercom object a CDP user/account is, per connection, and what Intercom is known to
 * hold for the synced fields (the diff base of the destination and the echo filter of the source).
 */
export const intercomLinks = sqliteTable(
  "intercom_links",
  {
    connectionId: text("connection_id").notNull(),
    objectType: text("object_type").$type<IntercomObjectType>().notNull(),
    /** users.pk or accounts.pk. */
    localPk: integer("local_pk").notNull(),
    intercomId: text("intercom_id").notNull(),
    /** `updated_at` of the newest Intercom state applied (ms); older webhook items are stale. */
    remoteUpdatedAt: integer("remote_updated_at"),
    /** Intercom's known values of the fields we sync, keyed by Intercom attribute path. */
    remoteState: text("remote_state", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.connectionId, t.objectType, t.localPk] }),
    uniqueIndex("intercom_links_intercom_id").on(t.connectionId, t.objectType, t.intercomId),
  ],
);

/**
 * Relationships seen in Intercom whose contact or company is not in the CDP yet (source direction):
 * applied when the missing side is captured.
 */
export const pendingLinks = sqliteTable(
  "pending_links",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    connectionId: text("connection_id").notNull(),
    intercomContactId: text("intercom_contact_id").notNull(),
    intercomCompanyId: text("intercom_company_id").notNull(),
    /** The company's `company_id` when the payload carried it. */
    companyId: text("company_id"),
    op: text("op").$type<"attach" | "detach">().notNull(),
    /** Envelope `created_at` of the notification (ms): the newest op per pair wins. */
    occurredAt: integer("occurred_at").notNull(),
    /**
     * A detach already applied to the memberships, kept (until the pending-link TTL) as the pair's newest operation
     * so that an older attach (an import's item, a late webhook) cannot undo it.
     */
    settled: integer("settled", { mode: "boolean" }).notNull().default(false),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("pending_links_pair").on(t.connectionId, t.intercomContactId, t.intercomCompanyId),
    index("pending_links_company").on(t.connectionId, t.intercomCompanyId),
    index("pending_links_time").on(t.createdAt),
  ],
);

/** Events captured for users (chat events, Intercom data events). */
export const events = sqliteTable(
  "events",
  {
    pk: integer("pk").primaryKey({ autoIncrement: true }),
    workspaceId: text("workspace_id").notNull(),
    userPk: integer("user_pk").notNull(),
    connectionId: text("connection_id"),
    name: text("name").notNull(),
    properties: text("properties", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
    occurredAt: integer("occurred_at").notNull(),
    source: text("source").notNull(),
    /** Unique per origin (e.g. Intercom notification id + event name): a redelivery cannot add a second row. */
    dedupeKey: text("dedupe_key"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    index("events_user_time").on(t.userPk, t.occurredAt, t.pk),
    uniqueIndex("events_dedupe").on(t.dedupeKey),
    // Retention (EVENT_RETENTION_DAYS) deletes by age.
    index("events_time").on(t.occurredAt),
  ],
);

/** Intercom notification ids already processed (idempotency of the source consumer). */
export const processedNotifications = sqliteTable(
  "processed_notifications",
  {
    /** `${app_id}:${notification id}`. */
    key: text("key").primaryKey(),
    processedAt: integer("processed_at").notNull(),
  },
  (t) => [index("processed_notifications_time").on(t.processedAt)],
);

export type Direction = "in" | "out";
export type SyncOutcome =
  | "captured"
  | "skipped"
  | "duplicate"
  | "stale"
  | "pending"
  | "failed"
  | "synced"
  | "noop"
  | "conflict"
  | "retrying"
  | "parked"
  | "ignored"
  | "dead_letter";

/** One row per outcome of either direction; `id` is the (newest-first) pagination cursor. */
export const syncLogs = sqliteTable(
  "sync_logs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    connectionId: text("connection_id"),
    workspaceId: text("workspace_id"),
    direction: text("direction").$type<Direction>().notNull(),
    outcome: text("outcome").$type<SyncOutcome>().notNull(),
    /** user | account | contact | company | event | action | connection | notification. */
    objectType: text("object_type").notNull(),
    /** The CDP id (user_id, account_id) or, failing that, the Intercom one. */
    objectId: text("object_id"),
    intercomId: text("intercom_id"),
    email: text("email"),
    /** What was attempted: a topic (`contact.user.updated`), or `create`, `update`, `attach`, `add_tag`, … */
    action: text("action"),
    detail: text("detail"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    index("sync_logs_connection").on(t.connectionId, t.id),
    index("sync_logs_direction").on(t.connectionId, t.direction, t.id),
    index("sync_logs_outcome").on(t.connectionId, t.outcome, t.id),
    index("sync_logs_object_type").on(t.connectionId, t.objectType, t.id),
    // The three searches of `q` only ever look for a value: rows without one (most rows have no email) stay out.
    index("sync_logs_object_id").on(t.connectionId, t.objectId, t.id).where(sql`object_id IS NOT NULL`),
    index("sync_logs_intercom_id").on(t.connectionId, t.intercomId, t.id).where(sql`intercom_id IS NOT NULL`),
    index("sync_logs_email").on(t.connectionId, t.email, t.id).where(sql`email IS NOT NULL`),
    index("sync_logs_time").on(t.createdAt),
  ],
);

/**
 * Counters beside the sync log (src/lib/sync-log.ts), upserted `n = n + 1`:
 * - outcomes that are counted, not logged row by row (`noop`, `duplicate`, `ignored`), and `dropped` (rows not
 *   written because the connection reached `LOG_ROWS_PER_DAY`), per 5-minute window (`period` = its start, ms);
 * - `rows` (direction `*`): sync-log rows written that UTC day (`period` = the day's start), the daily cap's count.
 */
export const syncLogCounts = sqliteTable(
  "sync_log_counts",
  {
    connectionId: text("connection_id").notNull(),
    period: integer("period").notNull(),
    /** `in`, `out`, or `*` for the daily `rows` count. */
    direction: text("direction").notNull(),
    /** `noop` | `duplicate` | `ignored` | `dropped` | `rows`. */
    outcome: text("outcome").notNull(),
    n: integer("n").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.connectionId, t.period, t.direction, t.outcome] }),
    // Retention deletes by age.
    index("sync_log_counts_time").on(t.period),
  ],
);

/** Queue messages that exhausted their retries, recorded by the dead-letter consumers. */
export const deadLetters = sqliteTable(
  "dead_letters",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** The queue the message was first sent to: `intercom-inbound` or `intercom-outbound`. */
    queue: text("queue").notNull(),
    connectionId: text("connection_id"),
    /** The message body as JSON. */
    body: text("body").notNull(),
    /** Queue message id: a redelivered dead letter is recorded once. */
    messageId: text("message_id").notNull(),
    createdAt: integer("created_at").notNull(),
    replayedAt: integer("replayed_at"),
  },
  (t) => [
    index("dead_letters_connection").on(t.connectionId, t.id),
    uniqueIndex("dead_letters_message").on(t.messageId),
  ],
);

export type ActionType = "add_tag" | "remove_tag" | "trigger_event";
export type ActionStatus = "queued" | "done" | "failed";

/** Actions requested by the CDP (add/remove tag, trigger event). */
export const actions = sqliteTable(
  "actions",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    connectionId: text("connection_id").notNull(),
    userPk: integer("user_pk").notNull(),
    type: text("type").$type<ActionType>().notNull(),
    /** `{tag}` or `{event: {name, metadata, occurred_at}}` as accepted. */
    payload: text("payload", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    idempotencyKey: text("idempotency_key"),
    status: text("status").$type<ActionStatus>().notNull(),
    detail: text("detail"),
    attempts: integer("attempts").notNull().default(0),
    /** When the action was accepted: the `created_at` of a triggered event unless `occurred_at` was given. */
    acceptedAt: integer("accepted_at").notNull(),
    /** For trigger_event: `${connection}:${intercom contact id}:${event name}:${created_at s}`, to spot its echo. */
    echoKey: text("echo_key"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("actions_idempotency").on(t.workspaceId, t.idempotencyKey),
    // A contact's object runs its queued actions in the order they were accepted.
    index("actions_queue").on(t.connectionId, t.userPk, t.status, t.acceptedAt),
    // Most actions have no echo key: a partial index stays small and is always the plan for the echo lookup.
    index("actions_echo").on(t.echoKey).where(sql`echo_key IS NOT NULL`),
  ],
);

/** Tag ids by lower-cased name, per connection (tags are create-or-get by name in Intercom). */
export const tagCache = sqliteTable(
  "tag_cache",
  {
    connectionId: text("connection_id").notNull(),
    name: text("name").notNull(),
    tagId: text("tag_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.connectionId, t.name] })],
);

/** Sync objects whose work waits for a reconnect (the token was revoked); woken when the connection is restored. */
export const parkedSyncs = sqliteTable(
  "parked_syncs",
  {
    connectionId: text("connection_id").notNull(),
    /** `user` or `account`. */
    kind: text("kind").notNull(),
    localPk: integer("local_pk").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.connectionId, t.kind, t.localPk] })],
);

export type ErasureState = "running" | "done" | "failed";
export type ErasureOrigin = "api" | "intercom";

/** One step of an erasure job and how many rows (or contacts) it touched. */
export interface ErasureStep {
  name: string;
  state: "pending" | "done";
  count: number;
}

/**
 * Identifiers an erasure still has to scrub; cleared when it finishes, so once `done` no column anywhere holds them
 * in clear (the row then names no person: it is the audit record).
 */
export interface ErasureSubjects {
  userPk: number | null;
  userId: string | null;
  email: string | null;
  /** Intercom contact ids linked to the person, per connection id. */
  contacts: Record<string, string[]>;
  /** An Intercom deletion started the erasure: nothing is sent back on this connection. */
  quietConnectionId?: string;
}

/**
 * Erasures of a person (privacy): the job's progress and, once done, its audit record. Kept in the workspace's data
 * database, beside the rows it deletes, so each step's deletes and its progress land in one D1 batch.
 */
export const erasures = sqliteTable(
  "erasures",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    /** HMAC-SHA-256 of the identity erased (README, Privacy): the only name of the person that survives. */
    digest: text("digest").notNull(),
    /** The digest of the person's email alone, so asking again by email finds an erasure asked by `user_id`. */
    emailDigest: text("email_digest"),
    origin: text("origin").$type<ErasureOrigin>().notNull(),
    /** Who asked: the token's `sub` (API), or `intercom:<connection id>` (a deleted contact). */
    requestedBy: text("requested_by"),
    state: text("state").$type<ErasureState>().notNull(),
    steps: text("steps", { mode: "json" }).$type<ErasureStep[]>().notNull(),
    /** Null once finished. */
    subjects: text("subjects", { mode: "json" }).$type<ErasureSubjects>(),
    /** The page the job runs next: a duplicate queue delivery of an older page is a no-op. */
    seq: integer("seq").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    finishedAt: integer("finished_at"),
  },
  (t) => [
    index("erasures_workspace_digest").on(t.workspaceId, t.digest),
    index("erasures_workspace_email_digest").on(t.workspaceId, t.emailDigest),
    // Housekeeping finds running erasures that lost their message.
    index("erasures_running").on(t.state, t.updatedAt),
  ],
);

/**
 * Intercom contacts of erased persons, by keyed digest of `connection id + contact id` (never in clear): the source
 * does not capture them again (the webhook echo of an archive or delete, a redelivery, an update already on its way),
 * and logs them under the person's digest. Expired by housekeeping after 30 days.
 */
export const erasedContacts = sqliteTable(
  "erased_contacts",
  {
    key: text("key").primaryKey(),
    personDigest: text("person_digest").notNull(),
    erasureId: text("erasure_id").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("erased_contacts_time").on(t.createdAt)],
);

export type ResyncJobState = "running" | "done" | "cancelled" | "failed";

/**
 * Resync jobs (tenant data: their counters are bumped by each user's sync, which already writes this workspace's
 * data database). At most one `running` job per connection (partial unique index); `after_pk` is the paging cursor,
 * persisted after every page so a restarted consumer continues where the last page ended.
 */
export const resyncJobs = sqliteTable(
  "resync_jobs",
  {
    id: text("id").primaryKey(),
    connectionId: text("connection_id").notNull(),
    workspaceId: text("workspace_id").notNull(),
    state: text("state").$type<ResyncJobState>().notNull(),
    /** Users passing the segment filter when the job started. */
    total: integer("total").notNull(),
    /** Users handed to the bulk lane so far. */
    queued: integer("queued").notNull().default(0),
    synced: integer("synced").notNull().default(0),
    noop: integer("noop").notNull().default(0),
    skipped: integer("skipped").notNull().default(0),
    failed: integer("failed").notNull().default(0),
    /** Users with a larger pk are still to be paged. */
    afterPk: integer("after_pk").notNull().default(0),
    /** Every page was queued: the job is done once `synced + noop + skipped + failed` reaches `queued`. */
    pagedAll: integer("paged_all", { mode: "boolean" }).notNull().default(false),
    detail: text("detail"),
    startedAt: integer("started_at").notNull(),
    finishedAt: integer("finished_at"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("resync_jobs_one_running").on(t.connectionId).where(sql`state = 'running'`),
    // The cron's stall check reads running jobs by last progress; few rows are running, so the index stays small.
    index("resync_jobs_running_updated").on(t.updatedAt).where(sql`state = 'running'`),
    index("resync_jobs_connection").on(t.connectionId, t.startedAt),
  ],
);

export type ImportJobState = "queued" | "running" | "done" | "failed" | "cancelled";
export type ImportObject = "companies" | "contacts";
/** A phase of an import: an object, or one of the optional parts (README, Import). */
export type ImportPhaseName = ImportObject | "conversations" | "events";

/** What an import reads, as started (README, Import). */
export interface ImportOptions {
  /** In the order they run: companies first, so memberships find their accounts. */
  objects: ImportObject[];
  /** Only contacts updated at or after this Unix second; null: all. */
  since: number | null;
  /** Each imported contact's tag names as the user property `intercom_tags`. Absent in jobs started before. */
  tags?: boolean;
  /** Past conversations created at or after this Unix second as chat events; null or absent: none. */
  conversationsSince?: number | null;
  /** Past data events of each imported user contact. */
  events?: boolean;
}

/** One phase's figures: `total` from Intercom's `total_count`, `calls` the Intercom calls spent. */
export interface ImportPhase {
  object: ImportPhaseName;
  total: number | null;
  done: number;
  skipped: number;
  failed: number;
  calls: number;
  /** The calls the phase is expected to cost, stated before it runs (the events phase). */
  estimated_calls?: number;
  /** Why the phase did not run (a source setting off); absent when it ran. */
  skipped_reason?: string;
}

export const importJobs = sqliteTable(
  "import_jobs",
  {
    id: text("id").primaryKey(),
    connectionId: text("connection_id").notNull(),
    workspaceId: text("workspace_id").notNull(),
    state: text("state").$type<ImportJobState>().notNull(),
    options: text("options", { mode: "json" }).$type<ImportOptions>().notNull(),
    /** The phase being read (an entry of `options.objects`); null once every phase is read. */
    phase: text("phase").$type<ImportPhaseName>(),
    /** Where the phase continues: a search's `starting_after`, a scroll's `scroll_param`; null at its start. */
    cursor: text("cursor"),
    /** Pages recorded so far: each page message names the one it follows (compare-and-set, so a page counts once). */
    page: integer("page").notNull().default(0),
    phases: text("phases", { mode: "json" }).$type<ImportPhase[]>().notNull(),
    /** Why it failed, was cancelled or waits (a revoked token). */
    detail: text("detail"),
    startedAt: integer("started_at").notNull(),
    finishedAt: integer("finished_at"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("import_jobs_one_active").on(t.connectionId).where(sql`state IN ('queued', 'running')`),
    index("import_jobs_active_updated").on(t.updatedAt).where(sql`state IN ('queued', 'running')`),
    index("import_jobs_connection").on(t.connectionId, t.startedAt),
  ],
);
