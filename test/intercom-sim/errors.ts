/** Intercom's `error.list` responses, and the exception the simulator's handlers throw to produce them. */

/** A failure answered with Intercom's error shape; thrown anywhere inside a handler. */
export class IntercomError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

/** The body Intercom sends with every error status. */
export function errorList(code: string, message: string) {
  return { type: "error.list", request_id: crypto.randomUUID(), errors: [{ code, message }] };
}

/** A JSON error response in Intercom's shape. */
export function errorResponse(status: number, code: string, message: string, headers?: HeadersInit): Response {
  return Response.json(errorList(code, message), { status, headers });
}

/** 404 for a contact id, external id or email that names nobody. */
export const userNotFound = () => new IntercomError(404, "not_found", "User Not Found");
/** 404 for an unknown company. */
export const companyNotFound = () => new IntercomError(404, "company_not_found", "Company Not Found");
/** 404 for an unknown tag or tagging. */
export const resourceNotFound = () => new IntercomError(404, "not_found", "Resource Not Found");
/** 400 for a value Intercom rejects. */
export const invalid = (message: string) => new IntercomError(400, "parameter_invalid", message);
/** 400 for a top-level key the endpoint does not know. */
export const badParameter = (key: string) => new IntercomError(400, "bad_request", `bad '${key}' parameter`);
