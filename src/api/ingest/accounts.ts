/**
 * `/v1/accounts` (ingest scope): upsert an account, link and unlink its users, and read it back. Writes that change
 * what Intercom should hold queue a sync per connection with the destination on.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { connectionIdsOfWorkspace } from "../../connections/repository";
import type { Database } from "../../db/client";
import { workspaceDbs } from "../../db/placement";
import { setMembership, upsertAccount } from "../../destination/ingest";
import { type AccountRow, findAccount } from "../../graph/accounts";
import { intercomIdOfLocal } from "../../graph/links";
import { usersOfAccount } from "../../graph/memberships";
import { requireScope } from "../auth";
import { EXAMPLES } from "../examples";
import { ProblemError } from "../problem";
import { problem } from "../problems";
import { router } from "../router";
import { Properties } from "./users";

const ingest = { middleware: [requireScope("ingest")], security: [{ bearerAuth: [] }] };

const Iso = z.string().openapi({ format: "date-time", example: "2026-01-10T04:22:28.240Z" });

export const AccountSchema = z
  .object({
    account_id: z.string(),
    name: z.string().nullable(),
    properties: z.record(z.string(), z.unknown()),
    /** Members with a `user_id` (members known only by email have none to list). */
    user_ids: z.array(z.string()),
    /** Every member, leads known only by email included (their `user_id` is null). */
    members: z.array(z.object({ user_id: z.string().nullable(), email: z.string().nullable() })),
    intercom_company_id: z.string().nullable(),
    created_at: Iso,
    updated_at: Iso,
  })
  .openapi("Account", { example: EXAMPLES.account });

export const AccountParams = z.object({
  account_id: z
    .string()
    .min(1)
    .max(255)
    .openapi({
      param: { name: "account_id", in: "path" },
      description: "The CDP's account id (Intercom `company_id`).",
    }),
});

/** The account's JSON as the API shows it (also the answer of the upsert). */
export async function accountJson(dbs: { db: Database; control: Database }, account: AccountRow) {
  const { db, control } = dbs;
  const [members, intercomCompanyId] = await Promise.all([
    usersOfAccount(db, account.pk),
    connectionIdsOfWorkspace(control, account.workspaceId).then((ids) =>
      intercomIdOfLocal(db, ids, "company", account.pk),
    ),
  ]);
  return {
    account_id: account.accountId,
    name: account.name,
    properties: account.properties,
    user_ids: members.flatMap((member) => (member.userId === null ? [] : [member.userId])),
    members: members.map((member) => ({ user_id: member.userId, email: member.email })),
    intercom_company_id: intercomCompanyId,
    created_at: new Date(account.createdAt).toISOString(),
    updated_at: new Date(account.updatedAt).toISOString(),
  };
}

const AccountBody = z
  .strictObject({
    name: z.string().trim().min(1).max(255).nullable().optional().openapi({ description: "`null` clears it." }),
    properties: Properties.optional().openapi({
      description: "Merged into the stored properties; `null` removes one.",
    }),
  })
  .openapi("AccountUpsert", { example: EXAMPLES.accountUpsert });

const MembershipParams = AccountParams.extend({
  user_id: z
    .string()
    .min(1)
    .max(255)
    .openapi({ param: { name: "user_id", in: "path" }, description: "The CDP's user id." }),
});

const MembershipSchema = z
  .object({ account_id: z.string(), user_id: z.string(), linked: z.boolean() })
  .openapi("Membership", { example: EXAMPLES.membership });

export const accounts = router()
  .openapi(
    createRoute({
      method: "put",
      path: "/{account_id}",
      summary: "Create or update an account",
      ...ingest,
      request: {
        params: AccountParams,
        body: { required: true, content: { "application/json": { schema: AccountBody } } },
      },
      responses: {
        200: {
          description: "The account after the write.",
          content: { "application/json": { schema: AccountSchema } },
        },
        401: problem("Missing or invalid bearer token.", 401),
        403: problem("The token lacks the ingest scope.", 403),
        422: problem("Invalid body (one entry per bad path).", 422),
      },
    }),
    async (c) => {
      const accountId = c.req.valid("param").account_id;
      const write = await upsertAccount(c.env, c.var.auth.workspaceId, accountId, c.req.valid("json"));
      return c.json(await accountJson(await workspaceDbs(c.env, c.var.auth.workspaceId), write.row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/{account_id}/users/{user_id}",
      summary: "Link a user to an account",
      ...ingest,
      request: { params: MembershipParams },
      responses: {
        200: {
          description: "Linked (linking twice changes nothing).",
          content: { "application/json": { schema: MembershipSchema } },
        },
        401: problem("Missing or invalid bearer token.", 401),
        403: problem("The token lacks the ingest scope.", 403),
        404: problem("No such user or account in the token's workspace.", 404),
      },
    }),
    async (c) => {
      const { account_id: accountId, user_id: userId } = c.req.valid("param");
      await setMembership(c.env, c.var.auth.workspaceId, accountId, userId, true);
      return c.json({ account_id: accountId, user_id: userId, linked: true }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{account_id}/users/{user_id}",
      summary: "Unlink a user from an account",
      ...ingest,
      request: { params: MembershipParams },
      responses: {
        200: {
          description: "Unlinked (unlinking twice changes nothing).",
          content: { "application/json": { schema: MembershipSchema } },
        },
        401: problem("Missing or invalid bearer token.", 401),
        403: problem("The token lacks the ingest scope.", 403),
        404: problem("No such user or account in the token's workspace.", 404),
      },
    }),
    async (c) => {
      const { account_id: accountId, user_id: userId } = c.req.valid("param");
      await setMembership(c.env, c.var.auth.workspaceId, accountId, userId, false);
      return c.json({ account_id: accountId, user_id: userId, linked: false }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{account_id}",
      summary: "Get an account",
      description: "The account with its properties, member user ids and Intercom company id.",
      ...ingest,
      request: { params: AccountParams },
      responses: {
        200: { description: "The account.", content: { "application/json": { schema: AccountSchema } } },
        401: problem("Missing or invalid bearer token.", 401),
        403: problem("The token lacks the ingest scope.", 403),
        404: problem("No such account in the token's workspace.", 404),
      },
    }),
    async (c) => {
      const dbs = await workspaceDbs(c.env, c.var.auth.workspaceId);
      const account = await findAccount(dbs.db, c.var.auth.workspaceId, c.req.valid("param").account_id);
      if (!account) throw new ProblemError(404, "No such account.");
      return c.json(await accountJson(dbs, account), 200);
    },
  );
