/** Actions API (`ingest` scope): add or remove a tag, trigger an event; then follow the action to done or failed. */
import { createRoute, z } from "@hono/zod-openapi";
import { acceptAction, getAction } from "../../destination/actions";
import { requireScope } from "../auth";
import { EXAMPLES } from "../examples";
import { problem } from "../problems";
import { router } from "../router";

/** Intercom keeps at most this many metadata keys per event and silently drops the rest. */
export const MAX_METADATA_KEYS = 10;

/**
 * Intercom shows a rich link's `url` as a link in the contact's activity, so only https is accepted: `javascript:` or
 * `data:` would run in an Intercom teammate's browser, and `http:` would be a cleartext link. Plain strings are text
 * (Intercom makes links only of http/https strings) and are not checked.
 */
const RichLinkUrl = z.url({ protocol: /^https$/, error: "must be an https URL" });

const MetadataValue = z.union(
  [
    z.string().max(255),
    z.number().finite(),
    z.object({ url: RichLinkUrl, value: z.string() }).strict(),
    z.object({ amount: z.number().int(), currency: z.string().length(3) }).strict(),
  ],
  { error: "must be a string, a number, a rich link {url (https), value} or an amount {amount (cents), currency}" },
);

const EventSchema = z
  .object({
    name: z.string().trim().min(1, "must not be empty").max(255),
    metadata: z
      .record(z.string().min(1), MetadataValue)
      .refine((metadata) => Object.keys(metadata).length <= MAX_METADATA_KEYS, {
        error: `at most ${MAX_METADATA_KEYS} keys: Intercom would silently drop the rest`,
      })
      .optional(),
    occurred_at: z.iso.datetime({ offset: true }).optional().openapi({
      description: "When it happened; defaults to when the action was accepted (fixed once, so retries deduplicate).",
    }),
  })
  .strict();

const ActionBody = z
  .object({
    user_id: z.string().min(1).optional(),
    email: z.email().optional(),
    type: z.enum(["add_tag", "remove_tag", "trigger_event"]),
    tag: z.string().trim().min(1, "must not be empty").max(255).optional(),
    event: EventSchema.optional(),
    idempotency_key: z.string().min(1).max(255).optional().openapi({
      description: "The same key returns the same action id and runs the action once.",
    }),
    connection_id: z.string().optional().openapi({
      description: "Required only when several connections have their destination on.",
    }),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (!body.user_id && !body.email)
      ctx.addIssue({ code: "custom", path: ["user_id"], message: "user_id or email is required" });
    if (body.type !== "trigger_event" && !body.tag)
      ctx.addIssue({ code: "custom", path: ["tag"], message: `required for ${body.type}` });
    if (body.type === "trigger_event" && !body.event)
      ctx.addIssue({ code: "custom", path: ["event"], message: "required for trigger_event" });
    if (body.type === "trigger_event" && body.tag)
      ctx.addIssue({ code: "custom", path: ["tag"], message: "not allowed for trigger_event" });
    if (body.type !== "trigger_event" && body.event)
      ctx.addIssue({ code: "custom", path: ["event"], message: `not allowed for ${body.type}` });
  })
  .openapi("ActionRequest", { example: EXAMPLES.actionRequest });

const ActionStatus = z
  .object({
    id: z.string(),
    type: z.enum(["add_tag", "remove_tag", "trigger_event"]),
    status: z.enum(["queued", "done", "failed"]),
    detail: z.string().nullable(),
    attempts: z.number().int(),
    created_at: z.string().openapi({ format: "date-time" }),
    updated_at: z.string().openapi({ format: "date-time" }),
  })
  .openapi("Action", { example: EXAMPLES.action });

const ingest = { middleware: [requireScope("ingest")], security: [{ bearerAuth: [] }] };

export const actionsApi = router()
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      summary: "Run an action on a user's Intercom contact",
      ...ingest,
      request: { body: { required: true, content: { "application/json": { schema: ActionBody } } } },
      responses: {
        202: {
          description: "Accepted and queued",
          content: {
            "application/json": { schema: z.object({ id: z.string() }).openapi({ example: EXAMPLES.actionAccepted }) },
          },
        },
        401: problem("Missing or invalid bearer token.", 401),
        403: problem("The token lacks the ingest scope.", 403),
        404: problem("Unknown user or connection.", 404),
        409: problem("The connection is not connected, or its destination is off.", 409),
        422: problem("Invalid request (one entry per bad path).", 422),
      },
    }),
    async (c) => {
      const { id } = await acceptAction(c.env, c.var.auth.workspaceId, c.req.valid("json"));
      return c.json({ id }, 202);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      summary: "An action's status",
      ...ingest,
      request: { params: z.object({ id: z.string() }) },
      responses: {
        200: { description: "The action", content: { "application/json": { schema: ActionStatus } } },
        401: problem("Missing or invalid bearer token.", 401),
        403: problem("The token lacks the ingest scope.", 403),
        404: problem("No such action in this workspace.", 404),
      },
    }),
    async (c) => {
      const row = await getAction(c.env, c.var.auth.workspaceId, c.req.valid("param").id);
      return c.json(
        {
          id: row.id,
          type: row.type,
          status: row.status,
          detail: row.detail,
          attempts: row.attempts,
          created_at: new Date(row.acceptedAt).toISOString(),
          updated_at: new Date(row.updatedAt).toISOString(),
        },
        200,
      );
    },
  );
