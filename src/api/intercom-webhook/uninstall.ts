/**
 * `POST /webhooks/intercom/uninstall` (Intercom's "Installing and uninstalling apps" docs): Intercom's optional
 * uninstall notification, `{"app_id": "…"}`. It is not signed, so it is only a hint: the connection's token is checked
 * with `GET /me` (at most once per app every 30 s, on the workspace's rate budget: see confirmUninstall), and only a
 * 401 marks the connection `revoked`. The answer is always the same 200, whatever was found, so the endpoint tells a
 * caller nothing about which workspaces are connected.
 */

import { createRoute, z } from "@hono/zod-openapi";
import { confirmUninstall } from "../../connections/service";
import { controlDb } from "../../db/placement";
import { describeError } from "../../lib/errors";
import { log } from "../../lib/log";
import { EXAMPLES } from "../examples";
import { problems } from "../problems";
import { router } from "../router";

const UninstallBody = z.object({ app_id: z.string().trim().min(1).max(100) }).openapi("UninstallNotification", {
  example: EXAMPLES.uninstall,
});

/** Mounted at `/webhooks/intercom/uninstall` (before the `/webhooks/intercom` app). */
export const uninstall = router().openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["Webhooks"],
    summary: "Intercom uninstall notification",
    description:
      "Unsigned hint: the connection's token is checked with GET /me, at most once per app every 30 s and on the " +
      "workspace's rate budget; a 401 marks it revoked. Always 200.",
    request: { body: { required: true, content: { "application/json": { schema: UninstallBody } } } },
    responses: {
      200: {
        description: "Received.",
        content: {
          "application/json": { schema: z.object({ ok: z.literal(true) }).openapi({ example: EXAMPLES.healthz }) },
        },
      },
      ...problems(400, 422),
    },
  }),
  async (c) => {
    const { app_id: appId } = c.req.valid("json");
    const check = confirmUninstall(c.env, controlDb(c.env), appId);
    // Intercom wants an answer within seconds: the check finishes after the response.
    c.executionCtx.waitUntil(
      check.catch((error: unknown) =>
        log({
          level: "error",
          msg: "uninstall hint check crashed",
          outcome: "failed",
          app_id: appId,
          error: describeError(error),
        }),
      ),
    );
    return c.json({ ok: true as const }, 200);
  },
);
