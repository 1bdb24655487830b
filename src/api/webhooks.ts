/** Intercom's webhook endpoint: verify, enqueue, acknowledge (DESIGN §4, ack path). */
import { Hono } from "hono";
import type { AppEnv } from "../env";

export const webhooks = new Hono<AppEnv>()
  // Intercom validates the endpoint URL with a HEAD request; Hono answers HEAD with the GET route minus its body.
  .get("/", (c) => c.body(null, 200));
