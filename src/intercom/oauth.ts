/**
 * The OAuth calls the SDK does not cover: the code-for-token exchange (`POST /auth/eagle/token`) and the app's own
 * uninstall (`POST /auth/uninstall`), both on `authBase(env)`.
 */
import type { Env } from "../env";
import { authBase, REQUEST_TIMEOUT_SECONDS } from "./client";
import { classifyResponse, IntercomCallError } from "./errors";

type OAuthEnv = Pick<Env, "INTERCOM_API_BASE" | "INTERCOM_CLIENT_ID" | "INTERCOM_CLIENT_SECRET">;

/** Exchanges an authorization code for an access token (Intercom tokens do not expire and have no refresh token). */
export async function exchangeCode(env: OAuthEnv, code: string): Promise<string> {
  const operation = "POST /auth/eagle/token";
  const response = await send(operation, `${authBase(env)}/auth/eagle/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams({ code, client_id: env.INTERCOM_CLIENT_ID, client_secret: env.INTERCOM_CLIENT_SECRET }),
  });
  const body = await readJson(response);
  if (!response.ok) throw new IntercomCallError(classifyResponse(response.status, body, response.headers), operation);
  const token =
    (body as { access_token?: unknown; token?: unknown } | null)?.access_token ??
    (body as { token?: unknown } | null)?.token;
  if (typeof token !== "string" || token === "") {
    throw new IntercomCallError(
      { kind: "invalid", status: response.status, code: null, message: "the token response has no access_token" },
      operation,
    );
  }
  return token;
}

/** Uninstalls the app from the token's workspace, which revokes the token (`POST /auth/uninstall`). */
export async function revokeToken(env: Pick<Env, "INTERCOM_API_BASE">, token: string): Promise<void> {
  const operation = "POST /auth/uninstall";
  const response = await send(operation, `${authBase(env)}/auth/uninstall`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, accept: "application/json" },
  });
  if (!response.ok) {
    throw new IntercomCallError(
      classifyResponse(response.status, await readJson(response), response.headers),
      operation,
    );
  }
  await response.body?.cancel();
}

async function send(operation: string, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_SECONDS * 1000) });
  } catch (error) {
    const message = error instanceof Error && error.name === "TimeoutError" ? "request timed out" : "network error";
    throw new IntercomCallError({ kind: "server", status: null, message }, operation);
  }
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
