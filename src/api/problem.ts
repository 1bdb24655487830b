/** RFC 9457 problem details: the one error shape of the HTTP API. */
import type { ContentfulStatusCode } from "hono/utils/http-status";

export interface ProblemFieldError {
  path: string;
  message: string;
}

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
