/**
 * The token vault: Intercom access tokens are stored only as compact JWEs (`dir` + `A256GCM`) under
 * `TOKEN_ENCRYPTION_KEY`, whose format is `kid:base64url-32-byte-key[,kid:key…]`. The first key encrypts; every key
 * decrypts (chosen by the JWE's `kid` header), so a new key can be put first and old tokens still open until they are
 * sealed again (`needsReseal`).
 *
 * A token is bound to its connection: it is encrypted under a key derived (HKDF-SHA256) from the vault key and the
 * connection id, so a sealed token copied into another connection's row does not open there. Tokens sealed before
 * binding existed (under the vault key itself) still open, reported as unbound, and are sealed again on first use.
 */
import { base64url, CompactEncrypt, compactDecrypt, decodeProtectedHeader } from "jose";
import type { Env } from "../env";

const ALG = "dir";
const ENC = "A256GCM";
const KID = /^[A-Za-z0-9._-]{1,64}$/;

/** Raised when the vault is misconfigured or a sealed token cannot be opened; its message never holds key material. */
export class TokenVaultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenVaultError";
  }
}

export interface VaultKeys {
  /** The key that seals new tokens (the first one listed). */
  current: { kid: string; key: Uint8Array };
  byKid: ReadonlyMap<string, Uint8Array>;
}

let cached: { source: string; keys: VaultKeys } | undefined;

/** Parses `TOKEN_ENCRYPTION_KEY`; throws a TokenVaultError that says what is wrong (never the key itself). */
export function parseVaultKeys(source: string | undefined): VaultKeys {
  if (cached && cached.source === source) return cached.keys;
  if (!source?.trim()) throw new TokenVaultError("TOKEN_ENCRYPTION_KEY is not set.");
  const byKid = new Map<string, Uint8Array>();
  let current: VaultKeys["current"] | undefined;
  for (const [index, entry] of source.split(",").entries()) {
    const separator = entry.indexOf(":");
    const kid = entry.slice(0, separator).trim();
    const encoded = entry.slice(separator + 1).trim();
    if (separator < 0 || !KID.test(kid)) {
      throw new TokenVaultError(
        `TOKEN_ENCRYPTION_KEY entry ${index + 1} must be "kid:base64url-key" with a kid of [A-Za-z0-9._-].`,
      );
    }
    let key: Uint8Array;
    try {
      key = base64url.decode(encoded);
    } catch {
      throw new TokenVaultError(`TOKEN_ENCRYPTION_KEY key "${kid}" is not base64url.`);
    }
    if (key.length !== 32)
      throw new TokenVaultError(`TOKEN_ENCRYPTION_KEY key "${kid}" must decode to 32 bytes (got ${key.length}).`);
    if (byKid.has(kid)) throw new TokenVaultError(`TOKEN_ENCRYPTION_KEY lists the kid "${kid}" twice.`);
    byKid.set(kid, key);
    current ??= { kid, key };
  }
  const keys = { current: current!, byKid };
  cached = { source, keys };
  return keys;
}

/** Encrypts connection `connectionId`'s access token with the current key, bound to that connection. */
export async function sealToken(
  env: Pick<Env, "TOKEN_ENCRYPTION_KEY">,
  token: string,
  connectionId: string,
): Promise<string> {
  const { current } = parseVaultKeys(env.TOKEN_ENCRYPTION_KEY);
  return new CompactEncrypt(new TextEncoder().encode(token))
    .setProtectedHeader({ alg: ALG, enc: ENC, kid: current.kid })
    .encrypt(await connectionKey(current.key, connectionId));
}

/** A token opened from its sealed form; `bound` is false for a token sealed before binding (seal it again). */
export interface UnsealedToken {
  token: string;
  bound: boolean;
}

/**
 * Decrypts connection `connectionId`'s sealed token with the key its `kid` names. A token bound to another connection
 * does not open (TokenVaultError); one sealed before binding existed opens with `bound: false`.
 */
export async function unsealToken(
  env: Pick<Env, "TOKEN_ENCRYPTION_KEY">,
  jwe: string,
  connectionId: string,
): Promise<UnsealedToken> {
  const keys = parseVaultKeys(env.TOKEN_ENCRYPTION_KEY);
  const kid = kidOf(jwe);
  const key = keys.byKid.get(kid);
  if (!key)
    throw new TokenVaultError(
      `No key "${kid}" in TOKEN_ENCRYPTION_KEY opens this token; keep old keys listed after the new one.`,
    );
  const bound = await decrypt(jwe, await connectionKey(key, connectionId));
  if (bound !== null) return { token: bound, bound: true };
  const unbound = await decrypt(jwe, key);
  if (unbound !== null) return { token: unbound, bound: false };
  throw new TokenVaultError(
    `The sealed token does not decrypt with key "${kid}" for this connection (altered, or copied from another connection).`,
  );
}

/** Decrypts connection `connectionId`'s sealed token (see `unsealToken`). */
export async function openToken(
  env: Pick<Env, "TOKEN_ENCRYPTION_KEY">,
  jwe: string,
  connectionId: string,
): Promise<string> {
  return (await unsealToken(env, jwe, connectionId)).token;
}

async function decrypt(jwe: string, key: Uint8Array): Promise<string | null> {
  try {
    const { plaintext } = await compactDecrypt(jwe, key, {
      keyManagementAlgorithms: [ALG],
      contentEncryptionAlgorithms: [ENC],
    });
    return new TextDecoder().decode(plaintext);
  } catch {
    return null;
  }
}

const BINDING_INFO = "intercom-connector token-vault v1 connection:";

/** The content key of one connection's token: HKDF-SHA256 of the vault key, with the connection id as info. */
async function connectionKey(key: Uint8Array, connectionId: string): Promise<Uint8Array> {
  if (!connectionId) throw new TokenVaultError("A sealed token needs the id of its connection.");
  const material = await crypto.subtle.importKey("raw", key, "HKDF", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(0),
      info: new TextEncoder().encode(`${BINDING_INFO}${connectionId}`),
    },
    material,
    256,
  );
  return new Uint8Array(bits);
}

/** Whether a sealed token was encrypted with a key other than the current one (it should be sealed again). */
export function needsReseal(env: Pick<Env, "TOKEN_ENCRYPTION_KEY">, jwe: string): boolean {
  return kidOf(jwe) !== parseVaultKeys(env.TOKEN_ENCRYPTION_KEY).current.kid;
}

function kidOf(jwe: string): string {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jwe);
  } catch {
    throw new TokenVaultError("The sealed token is not a compact JWE.");
  }
  if (header.alg !== ALG || header.enc !== ENC || typeof header.kid !== "string") {
    throw new TokenVaultError("The sealed token is not a dir/A256GCM JWE with a kid.");
  }
  return header.kid;
}
