/** Intercom's webhook signature: `sha1=` + lowercase hex HMAC-SHA1 of the raw body, keyed with the app's client_secret. */

const encoder = new TextEncoder();
/** Imported keys by secret: a benchmark signs thousands of bodies with the same secret. */
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
    keys.set(secret, key);
  }
  return key;
}

/** The `X-Hub-Signature` header value for `body`. */
export async function hubSignature(secret: string, body: Uint8Array): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), body));
  let hex = "";
  for (const b of mac) hex += b.toString(16).padStart(2, "0");
  return `sha1=${hex}`;
}
