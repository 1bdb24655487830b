/**
 * Every HTTP sub-app is an OpenAPIHono router: its routes are declared with zod schemas (`createRoute`), which both
 * validate requests (through @hono/zod-validator) and generate `GET /openapi.json`.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { ZodError } from "zod";
import type { AppEnv } from "../env";
import { ProblemError, type ProblemFieldError } from "../lib/problem";

/** A new sub-app whose validation failures become 422 problems with one entry per bad path. */
export function router() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationProblem(result.error, result.target);
    },
  });
}

/** Turns a zod error into a 422 problem; body paths are dotted (`destination.segments.0`), others prefixed. */
export function validationProblem(error: ZodError, target: string): ProblemError {
  return new ProblemError(422, "The request is not valid; see `errors`.", fieldErrors(error, target));
}

/** One `{path, message}` per zod issue. */
export function fieldErrors(error: ZodError, target = "json"): ProblemFieldError[] {
  return error.issues.map((issue) => {
    const inner = issue.path.map(String).join(".");
    const prefix = target === "json" ? "" : target;
    const path = [prefix, inner].filter(Boolean).join(".") || (prefix || "body");
    return { path, message: issue.message };
  });
}
