/**
 * The token vault: Intercom access tokens are stored only as compact JWEs (`dir` + `A256GCM`) under
 * `TOKEN_ENCRYPTION_KEY`, whose format is `kid:base64url-32-byte-key[,kid:key…]`. The first key encrypts; every key
 * decrypts (chosen by the JWE's `kid` header), so a new key can be put first and old tokens still open until they are
 * sealed again (`needsReseal`).
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

/** Encrypts an access token with the current key; the result is safe to store. */
export async function sealToken(env: Pick<Env, "TOKEN_ENCRYPTION_KEY">, token: string): Promise<string> {
  const { current } = parseVaultKeys(env.TOKEN_ENCRYPTION_KEY);
  return new CompactEncrypt(new TextEncoder().encode(token))
    .setProtectedHeader({ alg: ALG, enc: ENC, kid: current.kid })
    .encrypt(current.key);
}

/** Decrypts a sealed token with the key its `kid` names. */
export async function openToken(env: Pick<Env, "TOKEN_ENCRYPTION_KEY">, jwe: string): Promise<string> {
  const keys = parseVaultKeys(env.TOKEN_ENCRYPTION_KEY);
  const kid = kidOf(jwe);
  const key = keys.byKid.get(kid);
  if (!key)
    throw new TokenVaultError(
      `No key "${kid}" in TOKEN_ENCRYPTION_KEY opens this token; keep old keys listed after the new one.`,
    );
  try {
    const { plaintext } = await compactDecrypt(jwe, key, {
      keyManagementAlgorithms: [ALG],
      contentEncryptionAlgorithms: [ENC],
    });
    return new TextDecoder().decode(plaintext);
  } catch {
    throw new TokenVaultError(`The sealed token does not decrypt with key "${kid}".`);
  }
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
