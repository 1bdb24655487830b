/** Identifier formats that look like Intercom's. Random, so ids from before a reset never name a new object. */

function randomHex(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  let hex = "";
  for (const b of buf) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/** A 24-hex object id (Mongo style: creation second, then randomness), as Intercom's contact and company ids. */
export function objectId(nowMs: number): string {
  return (
    Math.floor(nowMs / 1000)
      .toString(16)
      .padStart(8, "0")
      .slice(-8) + randomHex(8)
  );
}

/** An 8-character workspace id like `drzzt019`. */
export function appIdCode(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const buf = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(buf, (b) => alphabet[b % alphabet.length]).join("");
}

/** An access token shaped like Intercom's (`dG9rOj…`, base64 of `tok:…`). */
export function accessToken(): string {
  return btoa(`tok:${crypto.randomUUID()}:1:0`);
}

/** An OAuth code; base64 with `=` padding, because Intercom's codes may end in `=` and clients must keep it. */
export function oauthCode(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
}

/** A numeric id such as tags, plans and admins have: random, 6 to 9 digits. */
export function numericId(): string {
  return String(100_000 + Math.floor(Math.random() * 900_000_000));
}
