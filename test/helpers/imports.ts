/** Shared set-up of the source-import tests: admin calls, a connected source workspace, page-by-page runs. */
import { env, exports } from "cloudflare:workers";
import type { Env } from "../../src/env";
import type { ImportPageMessage } from "../../src/source/import/messages";
import { authHeaders } from "./auth";
import { connectSimWorkspace } from "./connections";
import type { useIntercomSim } from "./intercom-sim";

/** An admin API call of `workspaceId` through the Worker, answered as status, content type and parsed JSON. */
export async function adminCall(workspaceId: string, method: string, path: string, body?: unknown) {
  const headers = await authHeaders({ workspaceId, scope: "admin" });
  const response = await exports.default.fetch(`https://connector.test${path}`, {
    method,
    headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, type: response.headers.get("content-type"), json: (await response.json()) as any };
}

/** A new simulator workspace connected with the source on (`source` overrides settings), and its imports path. */
export async function connectImportSource(
  sim: Pick<ReturnType<typeof useIntercomSim>, "createWorkspace">,
  source: Record<string, unknown> = {},
) {
  const { workspace, workspaceId, connection } = await connectSimWorkspace(sim, source);
  return { workspace, workspaceId, connection, base: `/v1/connections/${connection.id}/imports` };
}

/** The number `n` of a `SELECT count(*) AS n …` on the control database. */
export async function scalar(sql: string, ...binds: unknown[]): Promise<number> {
  const row = await env.DB.prepare(sql)
    .bind(...binds)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** Runs an import's pages one at a time in a test: the JOBS sends are kept instead of queued. */
export function pageByPage() {
  const sent: ImportPageMessage[] = [];
  const jobs = { send: async (body: ImportPageMessage) => void sent.push(body) } as unknown as Env["JOBS"];
  return { env: { ...env, JOBS: jobs } as Env, sent };
}
