/**
 * The JSON API's request size limit: a body over 1 MiB is a 413 problem before anything reads it whole (by its
 * Content-Length, or while streaming one without). The webhook route has its own cap (see webhooks.ts).
 */
import { bodyLimit } from "hono/body-limit";
import { ProblemError } from "./problem";

export const MAX_API_BODY_BYTES = 1024 * 1024;

export const apiBodyLimit = bodyLimit({
  maxSize: MAX_API_BODY_BYTES,
  onError: () => {
    throw new ProblemError(413, "The body exceeds 1 MiB.");
  },
});
