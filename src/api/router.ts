/**
 * Every HTTP sub-app is an OpenAPIHono router: its routes are declared with zod schemas (`createRoute`), which both
 * validate requests (through @hono/zod-validator) and generate `GET /openapi.json`.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { ZodError } from "zod";
import type { AppEnv } from "../env";
import { log } from "../lib/log";
import { ProblemError, type ProblemFieldError } from "./problem";

/** A new sub-app whose validation failures become 422 problems with one entry per bad path. */
export function router() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationProblem(result.error, result.target);
    },
  });
}

/** Turns a zod error into a 422 problem (and a log line naming the paths only: values may be personal data). */
export function validationProblem(error: ZodError, target: string): ProblemError {
  const errors = fieldErrors(error, target);
  log({ msg: "request refused: invalid input", outcome: "invalid", paths: errors.map((entry) => entry.path) });
  return new ProblemError(422, "The request is not valid; see `errors`.", errors);
}

/**
 * One `{path, message}` per zod issue, and one per unknown key (`source.bogus`), so every bad path is named. Body
 * paths are dotted (`destination.segments.0`); query and path parameters are prefixed (`query.limit`).
 */
export function fieldErrors(error: ZodError, target = "json"): ProblemFieldError[] {
  const prefix = target === "json" ? "" : target;
  const entry = (path: PropertyKey[], message: string): ProblemFieldError => ({
    path: [prefix, path.map(String).join(".")].filter(Boolean).join(".") || prefix || "body",
    message,
  });
  return error.issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => entry([...issue.path, key], "unknown key"))
      : [entry(issue.path, issue.message)],
  );
}
