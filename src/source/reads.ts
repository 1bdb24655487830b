/**
 * Reads of a queue batch done in bulk before its notifications are decided: the links of the contacts and companies
 * the batch names, their users and accounts, and which of its events the connector triggered itself. Handlers ask
 * through `readLink`/`readUser`/`readAccount`/`readOwnEvent`, which answer from the batch's reads when they hold the
 * answer (a miss included) and read D1 otherwise. The consumer drops them whenever it commits mid-batch, so a
 * handler never sees a value older than what an earlier message of the batch wrote.
 */
import { type AnyColumn, and, eq, type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { accounts, actions, type IntercomObjectType, pendingLinks, users } from "../db/schema";
import { type AccountRow, getAccount } from "../graph/accounts";
import { eventEchoKey } from "../graph/events";
import { type LinkRow, linkByIntercomId, linksByIntercomIds } from "../graph/links";
import { findUser, getUser, normalizeEmail, type UserIdentity, type UserRow } from "../graph/users";
import { unixSeconds } from "../intercom/times";
import { isOwnEvent } from "./echo";
import type { BatchReads, HandlerContext, SourceConnection, SourceNotification } from "./work";

/** Ids per bulk read: each travels in one JSON parameter, the bound keeps the rows of one answer small. */
const IDS_PER_READ = 100;

function linkKey(objectType: IntercomObjectType, intercomId: string): string {
  return `${objectType}:${intercomId}`;
}

/** The link of an Intercom object, from the batch's reads when they hold it. */
export async function readLink(
  ctx: HandlerContext,
  objectType: IntercomObjectType,
  intercomId: string,
): Promise<LinkRow | null> {
  const cached = ctx.reads?.links.get(linkKey(objectType, intercomId));
  if (cached !== undefined) return cached;
  return linkByIntercomId(ctx.db, ctx.connection.id, objectType, intercomId);
}

/** A user by primary key, from the batch's reads when they hold it. */
export async function readUser(ctx: HandlerContext, pk: number): Promise<UserRow | null> {
  const cached = ctx.reads?.users.get(pk);
  if (cached !== undefined) return cached;
  return getUser(ctx.db, ctx.connection.workspaceId, pk);
}

/**
 * The user an identity names (`findUser`), from the batch's reads when they hold every id it names (a new contact's
 * none, an event's user).
 */
export async function readFindUser(ctx: HandlerContext, identity: UserIdentity): Promise<UserRow | null> {
  const email = normalizeEmail(identity.email);
  const known = ctx.reads?.identities;
  const byUserId = identity.userId ? known?.get(`u:${identity.userId}`) : [];
  const byEmail = email ? known?.get(`e:${email}`) : [];
  if (!known || byUserId === undefined || byEmail === undefined)
    return findUser(ctx.db, ctx.connection.workspaceId, identity);
  return userNamedBy(identity.userId ?? null, byUserId, byEmail);
}

/** `findUser`'s rule on rows: by `user_id` first; with an email too, the user known only by it; else the latest by email. */
function userNamedBy(userId: string | null, byUserId: UserRow[], byEmail: UserRow[]): UserRow | null {
  if (userId) return byUserId[0] ?? byEmail.find((row) => row.userId === null) ?? null;
  const latest = [...byEmail].sort((a, b) => b.updatedAt - a.updatedAt || b.pk - a.pk);
  return latest[0] ?? null;
}

/** An account by primary key, from the batch's reads when they hold it. */
export async function readAccount(ctx: HandlerContext, pk: number): Promise<AccountRow | null> {
  const cached = ctx.reads?.accounts.get(pk);
  if (cached !== undefined) return cached;
  return getAccount(ctx.db, ctx.connection.workspaceId, pk);
}

/** Whether an event is one the connector triggered itself, from the batch's reads when they hold it. */
export async function readOwnEvent(ctx: HandlerContext, echoKey: string): Promise<boolean> {
  const cached = ctx.reads?.ownEvents.get(echoKey);
  if (cached !== undefined) return cached;
  return isOwnEvent(ctx.db, echoKey);
}

/** The Intercom objects a notification's handler looks up by id (pure). */
export function lookupsOf(notification: SourceNotification): {
  contacts: string[];
  companies: string[];
  ownEvent: { contactId: string; name: string; createdAt: number } | null;
  /** `u:`/`e:` keys of the user ids and emails it names. */
  identities: string[];
} {
  const item = notification.item as Record<string, unknown>;
  const idOf = (value: unknown) =>
    value && typeof value === "object" && typeof (value as { id?: unknown }).id === "string"
      ? [(value as { id: string }).id]
      : [];
  const contacts: string[] = [];
  const companies: string[] = [];
  if (item.type === "contact" && typeof item.id === "string") contacts.push(item.id);
  if (item.type === "company" && typeof item.id === "string") companies.push(item.id);
  contacts.push(...idOf(item.contact), ...idOf(item.merged_from));
  companies.push(...idOf(item.company));
  const conversationContacts = (item.contacts as { contacts?: unknown } | undefined)?.contacts;
  if (Array.isArray(conversationContacts)) contacts.push(...conversationContacts.flatMap(idOf));
  let ownEvent = null;
  if (typeof item.intercom_user_id === "string") {
    contacts.push(item.intercom_user_id);
    const createdAt = unixSeconds(item.created_at as number | string | undefined) ?? notification.created_at;
    if (typeof item.event_name === "string")
      ownEvent = { contactId: item.intercom_user_id, name: item.event_name, createdAt };
  }
  const identities: string[] = [];
  for (const object of [item, item.contact, item.user, (item.source as { author?: unknown } | undefined)?.author]) {
    if (!object || typeof object !== "object") continue;
    const fields = object as Record<string, unknown>;
    for (const userId of [fields.external_id, fields.user_id])
      if (typeof userId === "string" && userId !== "") identities.push(`u:${userId}`);
    const email = typeof fields.email === "string" ? normalizeEmail(fields.email) : null;
    if (email) identities.push(`e:${email}`);
  }
  if (Array.isArray(conversationContacts))
    for (const contact of conversationContacts) {
      const userId = (contact as { external_id?: unknown } | null)?.external_id;
      if (typeof userId === "string" && userId !== "") identities.push(`u:${userId}`);
    }
  return { contacts, companies, ownEvent, identities };
}

/**
 * Forgets what the batch's reads hold about the objects of `notifications` (committed since): their links, users,
 * accounts, pending relationships and identities are read again when asked.
 */
export function forgetReads(reads: BatchReads, notifications: readonly SourceNotification[]): void {
  for (const notification of notifications) {
    const wanted = lookupsOf(notification);
    for (const [objectType, ids, pending, rows] of [
      ["contact", wanted.contacts, reads.pendingOfContact, reads.users],
      ["company", wanted.companies, reads.pendingOfCompany, reads.accounts],
    ] as const) {
      for (const id of ids) {
        const link = reads.links.get(linkKey(objectType, id));
        if (link) rows.delete(link.localPk);
        reads.links.delete(linkKey(objectType, id));
        pending.delete(id);
      }
    }
    for (const key of wanted.identities) reads.identities.delete(key);
  }
}

/**
 * Reads in bulk what the handlers of `notifications` will look up: about 4 queries per 100 objects, however many
 * notifications name them.
 */
export async function prefetchReads(
  db: Database,
  connection: SourceConnection,
  notifications: readonly SourceNotification[],
): Promise<BatchReads> {
  const reads: BatchReads = {
    links: new Map(),
    users: new Map(),
    accounts: new Map(),
    ownEvents: new Map(),
    pendingOfContact: new Map(),
    pendingOfCompany: new Map(),
    identities: new Map(),
  };
  const contacts = new Set<string>();
  const companies = new Set<string>();
  const echoKeys = new Set<string>();
  const identities = new Set<string>();
  for (const notification of notifications) {
    const wanted = lookupsOf(notification);
    for (const key of wanted.identities) identities.add(key);
    for (const id of wanted.contacts) contacts.add(id);
    for (const id of wanted.companies) companies.add(id);
    if (wanted.ownEvent)
      echoKeys.add(
        eventEchoKey(connection.id, wanted.ownEvent.contactId, wanted.ownEvent.name, wanted.ownEvent.createdAt),
      );
  }
  const linked = { contact: [] as number[], company: [] as number[] };
  for (const [objectType, ids] of [
    ["contact", [...contacts]],
    ["company", [...companies]],
  ] as const) {
    for (const part of chunks(ids)) {
      const found = await linksByIntercomIds(db, connection.id, objectType, part);
      for (const id of part) {
        const link = found.get(id) ?? null;
        reads.links.set(linkKey(objectType, id), link);
        if (link) linked[objectType].push(link.localPk);
      }
    }
  }
  const workspaceId = connection.workspaceId;
  await readByPk(linked.contact, reads.users, (part) =>
    db
      .select()
      .from(users)
      .where(and(eq(users.workspaceId, workspaceId), inJson(users.pk, part))),
  );
  await readByPk(linked.company, reads.accounts, (part) =>
    db
      .select()
      .from(accounts)
      .where(and(eq(accounts.workspaceId, workspaceId), inJson(accounts.pk, part))),
  );
  for (const [column, ids, into] of [
    [pendingLinks.intercomContactId, [...contacts], reads.pendingOfContact],
    [pendingLinks.intercomCompanyId, [...companies], reads.pendingOfCompany],
  ] as const) {
    for (const part of chunks(ids)) {
      const rows = await db
        .select()
        .from(pendingLinks)
        .where(and(eq(pendingLinks.connectionId, connection.id), inJson(column, part)));
      for (const id of part) into.set(id, []);
      for (const row of rows)
        into.get(column === pendingLinks.intercomContactId ? row.intercomContactId : row.intercomCompanyId)?.push(row);
    }
  }
  for (const [prefix, column] of [
    ["u:", users.userId],
    ["e:", users.email],
  ] as const) {
    const values = [...identities].filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
    for (const part of chunks(values)) {
      const rows = await db
        .select()
        .from(users)
        .where(and(eq(users.workspaceId, workspaceId), inJson(column, part)));
      for (const value of part) reads.identities.set(`${prefix}${value}`, []);
      for (const row of rows) {
        const value = prefix === "u:" ? row.userId : row.email;
        if (value) reads.identities.get(`${prefix}${value}`)?.push(row);
      }
    }
  }
  for (const part of chunks([...echoKeys])) {
    const rows = await db
      .select({ echoKey: actions.echoKey })
      .from(actions)
      .where(and(sql`${actions.echoKey} IS NOT NULL`, inJson(actions.echoKey, part)));
    for (const key of part) reads.ownEvents.set(key, false);
    for (const row of rows) if (row.echoKey) reads.ownEvents.set(row.echoKey, true);
  }
  return reads;
}

/** `column IN (…)` with the values as one JSON parameter: the statement's size does not grow with them. */
function inJson(column: AnyColumn, values: readonly (string | number)[]): SQL {
  return sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`;
}

/** Fills `into` with the rows of `pks` (null for a pk without one), one read per `IDS_PER_READ` distinct pks. */
async function readByPk<T extends { pk: number }>(
  pks: readonly number[],
  into: Map<number, T | null>,
  read: (part: number[]) => Promise<T[]>,
): Promise<void> {
  for (const part of chunks([...new Set(pks)])) {
    const rows = await read(part);
    for (const pk of part) into.set(pk, null);
    for (const row of rows) into.set(row.pk, row);
  }
}

function chunks<T>(values: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < values.length; start += IDS_PER_READ) out.push(values.slice(start, start + IDS_PER_READ));
  return out;
}
