/**
 * Structured logs: one object per outcome, so `wrangler tail --format json` and Workers Logs can filter by field.
 * Never pass a token, a secret or a whole payload with personal data.
 */
export interface LogFields {
  level?: "debug" | "info" | "warn" | "error";
  msg: string;
  connection_id?: string | null;
  workspace_id?: string | null;
  direction?: "in" | "out";
  object_type?: string;
  object_id?: string | null;
  action?: string | null;
  outcome?: string;
  duration_ms?: number;
  [key: string]: unknown;
}

/** Writes one structured log line. */
export function log(fields: LogFields): void {
  const entry = { level: "info", ...fields };
  if (entry.level === "error") console.error(entry);
  else if (entry.level === "warn") console.warn(entry);
  else console.log(entry);
}
