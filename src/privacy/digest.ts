/**
 * The one-way name of an erased person: HMAC-SHA-256 over the workspace and the identity erased, keyed by a secret
 * (`ERASURE_DIGEST_KEY`, else derived with HKDF-SHA256 from the first `TOKEN_ENCRYPTION_KEY` key), so it cannot be
 * recomputed from a guessed email without the key. The same person erased twice gets the same digest, which is how
 * scrubbed logs, dead letters and the audit row keep counting and ordering them without saying who they were.
 */
import { base64url } from "jose";
import { parseVaultKeys } from "../connections/token-vault";
import type { Env } from "../env";
import { normalizeEmail } from "../graph/users";

const DIGEST_INFO = "intercom-connector erasure-digest v1";
/** Erased values read `erased:<43 base64url chars>` wherever they replaced a name. */
export const DIGEST_PREFIX = "erased:";

const keys = new Map<string, CryptoKey>();

async function digestKey(env: Pick<Env, "TOKEN_ENCRYPTION_KEY" | "ERASURE_DIGEST_KEY">): Promise<CryptoKey> {
  const source = env.ERASURE_DIGEST_KEY?.trim() ? `own:${env.ERASURE_DIGEST_KEY}` : `vault:${env.TOKEN_ENCRYPTION_KEY}`;
  const cached = keys.get(source);
  if (cached) return cached;
  let raw: Uint8Array;
  if (env.ERASURE_DIGEST_KEY?.trim()) {
    raw = new TextEncoder().encode(env.ERASURE_DIGEST_KEY.trim());
  } else {
    const material = await crypto.subtle.importKey(
      "raw",
      parseVaultKeys(env.TOKEN_ENCRYPTION_KEY).current.key,
      "HKDF",
      false,
      ["deriveBits"],
    );
    raw = new Uint8Array(
      await crypto.subtle.deriveBits(
        { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new TextEncoder().encode(DIGEST_INFO) },
        material,
        256,
      ),
    );
  }
  const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  keys.set(source, key);
  return key;
}

/** The identity an erasure names, canonical: `user_id:<id>` when known, else `email:<lower-cased email>`. */
export function canonicalIdentity(identity: { userId?: string | null; email?: string | null }): string {
  if (identity.userId) return `user_id:${identity.userId}`;
  const email = normalizeEmail(identity.email);
  if (!email) throw new Error("an identity needs a user_id or an email");
  return `email:${email}`;
}

/** `erased:<base64url HMAC-SHA-256(key, workspace \0 identity)>`. */
export async function personDigest(
  env: Pick<Env, "TOKEN_ENCRYPTION_KEY" | "ERASURE_DIGEST_KEY">,
  workspaceId: string,
  identity: { userId?: string | null; email?: string | null },
): Promise<string> {
  return `${DIGEST_PREFIX}${await keyedDigest(env, `${workspaceId}\u0000${canonicalIdentity(identity)}`)}`;
}

/** base64url HMAC-SHA-256 of `text` under the digest key (tombstones of erased contacts). */
export async function keyedDigest(
  env: Pick<Env, "TOKEN_ENCRYPTION_KEY" | "ERASURE_DIGEST_KEY">,
  text: string,
): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await digestKey(env), new TextEncoder().encode(text));
  return base64url.encode(new Uint8Array(mac));
}
