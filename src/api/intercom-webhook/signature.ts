/**
 * Intercom's webhook signature: `X-Hub-Signature: sha1=<hex>`, the HMAC-SHA1 of the raw body keyed with the app's
 * client secret (Intercom's "Signed notifications"). Verified with `crypto.subtle.verify`, which compares in constant time.
 */

const encoder = new TextEncoder();
const HEADER = /^sha1=([0-9a-fA-F]{40})$/;

/** Imported once per isolate (and per secret, so a rotated secret gets its own key). */
const keys = new Map<string, Promise<CryptoKey>>();

function verificationKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-1" }, false, ["verify"]);
    // A failed import must not stay cached.
    key.catch(() => keys.delete(secret));
    keys.set(secret, key);
  }
  return key;
}

/** The 20 signature bytes of an `X-Hub-Signature` header value; null when it is missing or malformed. */
export function signatureBytes(header: string | null | undefined): Uint8Array | null {
  const hex = header?.trim().match(HEADER)?.[1];
  if (!hex) return null;
  const bytes = new Uint8Array(20);
  for (let i = 0; i < 20; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** Whether `header` is a valid signature of `body` with `secret`. */
export async function verifySignature(
  secret: string,
  body: Uint8Array,
  header: string | null | undefined,
): Promise<boolean> {
  const signature = signatureBytes(header);
  if (!signature) return false;
  return crypto.subtle.verify("HMAC", await verificationKey(secret), signature, body);
}
