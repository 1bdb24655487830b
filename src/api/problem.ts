/**
 * RFC 9457 problem details: the one error shape of the HTTP API, and the mapping of the connector's domain errors
 * (RefusedError, IntercomCallError, TokenVaultError) to it. HTTP statuses exist only here and in the routes.
 */
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { TokenVaultError } from "../connections/token-vault";
import { IntercomCallError } from "../intercom/errors";
import type { FieldError, RefusalReason } from "../lib/errors";
import { RefusedError } from "../lib/errors";

export type ProblemFieldError = FieldError;

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: ProblemFieldError[];
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

/** An error that the app's `onError` turns into a problem+json response with its status. */
export class ProblemError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    detail: string,
    readonly errors?: ProblemFieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
    this.name = "ProblemError";
  }

  body(): ProblemBody {
    return problemBody(this.status, this.message, this.errors);
  }
}

/** Builds a problem body; `type` is `about:blank` as RFC 9457 suggests when the status says it all. */
export function problemBody(status: number, detail?: string, errors?: ProblemFieldError[]): ProblemBody {
  return {
    type: "about:blank",
    title: TITLES[status] ?? "Error",
    status,
    ...(detail === undefined ? {} : { detail }),
    ...(errors === undefined ? {} : { errors }),
  };
}

/** A problem+json Response. */
export function problemResponse(
  status: number,
  detail?: string,
  errors?: ProblemFieldError[],
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(problemBody(status, detail, errors)), {
    status,
    headers: { "content-type": "application/problem+json", ...headers },
  });
}

const REFUSAL_STATUS: Record<RefusalReason, ContentfulStatusCode> = {
  not_found: 404,
  conflict: 409,
  invalid: 422,
  unavailable: 503,
};

/** The problem for a failed Intercom call made with a connection's stored token. */
export function intercomProblem(error: IntercomCallError): ProblemError {
  const { failure } = error;
  switch (failure.kind) {
    case "unauthorized":
      return new ProblemError(409, "Intercom no longer accepts this connection's access token; connect it again.");
    case "rate_limited": {
      const seconds = failure.resetAt ? Math.max(1, Math.ceil((failure.resetAt - Date.now()) / 1000)) : 10;
      return new ProblemError(503, `Intercom is rate limiting this workspace; retry in ${seconds} s.`, undefined, {
        "Retry-After": String(seconds),
      });
    }
    case "server":
      return new ProblemError(502, `Intercom did not answer ${error.operation} (${failure.message}); try again.`);
    default:
      return new ProblemError(502, `Intercom refused ${error.operation}: ${failure.message}`);
  }
}

/** The problem an error stands for, or null for an unexpected one (the app answers 500 and logs it). */
export function problemOf(error: unknown): ProblemError | null {
  if (error instanceof ProblemError) return error;
  if (error instanceof RefusedError) {
    const headers =
      error.retryAfterSeconds === undefined ? undefined : { "Retry-After": String(error.retryAfterSeconds) };
    return new ProblemError(REFUSAL_STATUS[error.reason], error.message, error.errors, headers);
  }
  if (error instanceof IntercomCallError) return intercomProblem(error);
  if (error instanceof TokenVaultError) {
    return new ProblemError(500, `The connection's stored token cannot be decrypted: ${error.message}`);
  }
  if (error instanceof HTTPException) return new ProblemError(error.status as ContentfulStatusCode, error.message);
  return null;
}
