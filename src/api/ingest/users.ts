/**
 * `/v1/users` (ingest scope): identify (`PUT`), and what the CDP reads back about its users. An identify that
 * changes what Intercom should hold queues a sync per connection with the destination on.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { connectionIdsOfWorkspace } from "../../connections/repository";
import type { Database } from "../../db/client";
import { tenantDb, workspaceDbs } from "../../db/placement";
import { identifyUser } from "../../destination/ingest";
import { type EventPosition, type EventRow, eventsOfUser } from "../../graph/events";
import { intercomIdOfLocal } from "../../graph/links";
import { accountsOfUser } from "../../graph/memberships";
import { nestsDeeperThan } from "../../graph/properties";
import { findUser, type UserRow } from "../../graph/users";
import { requireScope } from "../auth";
import { EXAMPLES } from "../examples";
import { ProblemError } from "../problem";
import { problem } from "../problems";
import { router } from "../router";

const ingest = { middleware: [requireScope("ingest")], security: [{ bearerAuth: [] }] };

const Iso = z.string().openapi({ format: "date-time", example: "2026-01-10T04:22:28.240Z" });

export const UserSchema = z
  .object({
    user_id: z.string().nullable(),
    email: z.string().nullable(),
    properties: z.record(z.string(), z.unknown()),
    segments: z.array(z.string()),
    account_ids: z.array(z.string()),
    /** Null when no connection of the workspace links the user to an Intercom contact. */
    intercom_contact_id: z.string().nullable(),
    created_at: Iso,
    updated_at: Iso,
  })
  .openapi("User", { example: EXAMPLES.user });

/** `user_id` or `email` (one is required; with both, the `user_id` wins and the email finds an email-only user). */
const UserQuery = z
  .object({
    user_id: z.string().min(1).max(255).optional(),
    email: z.string().min(1).max(320).optional(),
  })
  .refine((query) => query.user_id !== undefined || query.email !== undefined, {
    message: "Give user_id or email.",
    path: ["user_id"],
  });

const EventSchema = z.object({
  name: z.string(),
  properties: z.record(z.string(), z.unknown()),
  occurred_at: Iso,
  /** Where the event was captured: `intercom`. */
  source: z.string(),
});

const EventsQuery = z
  .object({
    user_id: z.string().min(1).max(255).optional(),
    email: z.string().min(1).max(320).optional(),
    cursor: z.string().min(1).max(200).optional().openapi({ description: "`next_cursor` of the previous page." }),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .refine((query) => query.user_id !== undefined || query.email !== undefined, {
    message: "Give user_id or email.",
    path: ["user_id"],
  });

/** The user's JSON as the API shows it (also the answer of identify). */
export async function userJson(dbs: { db: Database; control: Database }, user: UserRow) {
  const { db, control } = dbs;
  const [accounts, intercomContactId] = await Promise.all([
    accountsOfUser(db, user.pk),
    connectionIdsOfWorkspace(control, user.workspaceId).then((ids) => intercomIdOfLocal(db, ids, "contact", user.pk)),
  ]);
  return {
    user_id: user.userId,
    email: user.email,
    properties: user.properties,
    segments: user.segments,
    account_ids: accounts.map((account) => account.accountId),
    intercom_contact_id: intercomContactId,
    created_at: new Date(user.createdAt).toISOString(),
    updated_at: new Date(user.updatedAt).toISOString(),
  };
}

/** The user a query names in the token's workspace, or a 404 problem. */
async function requireUser(
  db: Database,
  workspaceId: string,
  query: { user_id?: string; email?: string },
): Promise<UserRow> {
  const user = await findUser(db, workspaceId, { userId: query.user_id ?? null, email: query.email ?? null });
  if (!user) throw new ProblemError(404, "No such user.");
  return user;
}

/** Cursors are opaque to clients: base64url of the last item's position. */
export function encodeCursor(position: EventPosition): string {
  return btoa(`${position.occurredAt}:${position.pk}`).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

/** The position a cursor names; a 422 problem when it is not one of ours. */
export function decodeCursor(cursor: string): EventPosition {
  try {
    const [occurredAt, pk] = atob(cursor.replaceAll("-", "+").replaceAll("_", "/")).split(":").map(Number);
    if (Number.isSafeInteger(occurredAt) && Number.isSafeInteger(pk)) return { occurredAt: occurredAt!, pk: pk! };
  } catch {
    // fall through
  }
  throw new ProblemError(422, "The request is not valid; see `errors`.", [
    { path: "query.cursor", message: "Not a cursor of this API." },
  ]);
}

function eventJson(event: EventRow) {
  return {
    name: event.name,
    properties: event.properties,
    occurred_at: new Date(event.occurredAt).toISOString(),
    source: event.source,
  };
}

/** How deep a property value may nest objects and arrays (deeper ones would overflow the stack of every reader). */
export const MAX_PROPERTY_DEPTH = 32;

/** Property names and values as the CDP sends them; `null` removes a property. */
export const Properties = z
  .record(z.string().min(1).max(255), z.unknown())
  .refine((properties) => Object.keys(properties).length <= 500, { error: "at most 500 properties per request" })
  .refine((properties) => !nestsDeeperThan(properties, MAX_PROPERTY_DEPTH + 1), {
    error: `values may nest objects and arrays at most ${MAX_PROPERTY_DEPTH} levels deep`,
  });

const IdentifyBody = z
  .strictObject({
    user_id: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .optional()
      .openapi({ description: "The CDP's id (Intercom `external_id`)." }),
    email: z.email().max(320).optional(),
    properties: Properties.optional().openapi({
      description: "Merged into the stored properties; `null` removes one.",
    }),
    segments: z
      .array(z.string().min(1).max(255))
      .max(1000)
      .optional()
      .openapi({ description: "Replaces the user's segment membership when given." }),
  })
  .refine((body) => body.user_id !== undefined || body.email !== undefined, {
    message: "user_id or email is required",
    path: ["user_id"],
  })
  .openapi("Identify", { example: EXAMPLES.identify });

export const users = router()
  .openapi(
    createRoute({
      method: "put",
      path: "/",
      summary: "Identify a user",
      description:
        "Creates or updates the user named by `user_id` (else `email`). Properties merge (`null` removes one); " +
        "`segments` replaces the membership. Only a change to what Intercom should hold queues a sync.",
      ...ingest,
      request: { body: { required: true, content: { "application/json": { schema: IdentifyBody } } } },
      responses: {
        200: { description: "The user after the write.", content: { "application/json": { schema: UserSchema } } },
        401: problem("Missing or invalid bearer token.", 401),
        403: problem("The token lacks the ingest scope.", 403),
        422: problem("Invalid body (one entry per bad path).", 422),
      },
    }),
    async (c) => {
      const write = await identifyUser(c.env, c.var.auth.workspaceId, c.req.valid("json"));
      return c.json(await userJson(await workspaceDbs(c.env, c.var.auth.workspaceId), write.row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/lookup",
      summary: "Look up a user",
      description: "The user with its properties, segments, accounts and Intercom contact id.",
      ...ingest,
      request: { query: UserQuery },
      responses: {
        200: { description: "The user.", content: { "application/json": { schema: UserSchema } } },
        401: problem("Missing or invalid bearer token.", 401),
        403: problem("The token lacks the ingest scope.", 403),
        404: problem("No such user in the token's workspace.", 404),
        422: problem("Neither user_id nor email, or a malformed one.", 422),
      },
    }),
    async (c) => {
      const dbs = await workspaceDbs(c.env, c.var.auth.workspaceId);
      const user = await requireUser(dbs.db, c.var.auth.workspaceId, c.req.valid("query"));
      return c.json(await userJson(dbs, user), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/events",
      summary: "A user's captured events",
      description: "Events captured for the user (Intercom chats and data events), newest first, paginated.",
      ...ingest,
      request: { query: EventsQuery },
      responses: {
        200: {
          description: "A page of events; `next_cursor` is null on the last page.",
          content: {
            "application/json": {
              schema: z
                .object({ items: z.array(EventSchema), next_cursor: z.string().nullable() })
                .openapi({ example: EXAMPLES.eventsPage }),
            },
          },
        },
        401: problem("Missing or invalid bearer token.", 401),
        403: problem("The token lacks the ingest scope.", 403),
        404: problem("No such user in the token's workspace.", 404),
        422: problem("Neither user_id nor email, a bad limit, or a cursor not from this API.", 422),
      },
    }),
    async (c) => {
      const db = await tenantDb(c.env, c.var.auth.workspaceId);
      const query = c.req.valid("query");
      const after = query.cursor ? decodeCursor(query.cursor) : null;
      const user = await requireUser(db, c.var.auth.workspaceId, query);
      // One more than the page tells whether another page follows.
      const rows = await eventsOfUser(db, user.pk, { after, limit: query.limit + 1 });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      const nextCursor =
        rows.length > query.limit && last ? encodeCursor({ occurredAt: last.occurredAt, pk: last.pk }) : null;
      return c.json({ items: page.map(eventJson), next_cursor: nextCursor }, 200);
    },
  );
