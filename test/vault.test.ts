import { env } from "cloudflare:workers";
import { base64url, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import {
  needsReseal,
  openToken,
  parseVaultKeys,
  sealToken,
  TokenVaultError,
  unsealToken,
} from "../src/connections/token-vault";
import { sealUnbound } from "./helpers/legacy-token";

const key = (byte: number) => base64url.encode(new Uint8Array(32).fill(byte));
const vault = (value: string) => ({ TOKEN_ENCRYPTION_KEY: value });
const TOKEN = "dG9rOjBiM2ZmYWM3X2ZkNzJfNGYxMF85ZDFiXzFhMmMzZDRlNWY2ZzoxOjA=";
const CONNECTION = "0b3ffac7-fd72-4f10-9d1b-1a2c3d4e5f60";

describe("token vault", () => {
  it("seals a token as a dir/A256GCM compact JWE with the current kid, and opens it again", async () => {
    const jwe = await sealToken(env, TOKEN, CONNECTION);
    expect(jwe.split(".")).toHaveLength(5);
    expect(jwe).not.toContain(TOKEN);
    expect(decodeProtectedHeader(jwe)).toEqual({ alg: "dir", enc: "A256GCM", kid: "k1" });
    expect(await openToken(env, jwe, CONNECTION)).toBe(TOKEN);
  });

  it("uses a fresh IV every time: the same token never seals to the same text", async () => {
    expect(await sealToken(env, TOKEN, CONNECTION)).not.toBe(await sealToken(env, TOKEN, CONNECTION));
  });

  it("rotation: a new first key seals, the old one still opens old tokens, and needsReseal spots them", async () => {
    const before = vault(`old:${key(1)}`);
    const during = vault(`new:${key(2)},old:${key(1)}`);
    const sealedOld = await sealToken(before, TOKEN, CONNECTION);
    expect(await openToken(during, sealedOld, CONNECTION)).toBe(TOKEN);
    expect(needsReseal(during, sealedOld)).toBe(true);
    const sealedNew = await sealToken(during, TOKEN, CONNECTION);
    expect(decodeProtectedHeader(sealedNew).kid).toBe("new");
    expect(needsReseal(during, sealedNew)).toBe(false);
    // Once the old key is removed, tokens sealed under it no longer open, with a message that says why.
    const after = vault(`new:${key(2)}`);
    expect(await openToken(after, sealedNew, CONNECTION)).toBe(TOKEN);
    await expect(openToken(after, sealedOld, CONNECTION)).rejects.toThrow(/No key "old"/);
  });

  it("refuses a token sealed under a known kid with a different key (tampering or a reused kid)", async () => {
    const sealed = await sealToken(vault(`k:${key(1)}`), TOKEN, CONNECTION);
    await expect(openToken(vault(`k:${key(9)}`), sealed, CONNECTION)).rejects.toThrow(TokenVaultError);
  });

  it("refuses a modified ciphertext", async () => {
    const sealed = await sealToken(env, TOKEN, CONNECTION);
    const parts = sealed.split(".");
    parts[3] = parts[3]!.startsWith("A") ? `B${parts[3]!.slice(1)}` : `A${parts[3]!.slice(1)}`;
    await expect(openToken(env, parts.join("."), CONNECTION)).rejects.toThrow(/does not decrypt/);
  });

  it("refuses anything that is not a dir/A256GCM JWE", async () => {
    await expect(openToken(env, "plain-token", CONNECTION)).rejects.toThrow(/not a compact JWE/);
    const header = base64url.encode(JSON.stringify({ alg: "A256KW", enc: "A256GCM", kid: "k1" }));
    await expect(openToken(env, `${header}.a.b.c.d`, CONNECTION)).rejects.toThrow(/dir\/A256GCM/);
  });

  it("binds a sealed token to its connection: it opens for that connection only", async () => {
    const jwe = await sealToken(env, TOKEN, CONNECTION);
    expect(await openToken(env, jwe, CONNECTION)).toBe(TOKEN);
    expect(await unsealToken(env, jwe, CONNECTION)).toEqual({ token: TOKEN, bound: true });
    // The same bytes in another connection's row (a row swap) do not open, and the error names no token.
    const swapped = await openToken(env, jwe, "another-connection").catch((error: unknown) => error);
    expect(swapped).toBeInstanceOf(TokenVaultError);
    expect((swapped as Error).message).toMatch(/does not decrypt with key "k1" for this connection/);
    expect((swapped as Error).message).not.toContain(TOKEN);
  });

  it("opens a token sealed before binding existed, and says it is unbound (to be sealed again)", async () => {
    const legacy = await sealUnbound(env.TOKEN_ENCRYPTION_KEY, TOKEN);
    expect(decodeProtectedHeader(legacy)).toEqual({ alg: "dir", enc: "A256GCM", kid: "k1" });
    expect(await unsealToken(env, legacy, CONNECTION)).toEqual({ token: TOKEN, bound: false });
    expect(await openToken(env, legacy, CONNECTION)).toBe(TOKEN);
  });

  it("explains a malformed TOKEN_ENCRYPTION_KEY without printing the key", () => {
    const bad: Array<[string | undefined, RegExp]> = [
      [undefined, /not set/],
      ["", /not set/],
      [key(1), /"kid:base64url-key"/],
      [`k1:${base64url.encode(new Uint8Array(16))}`, /32 bytes \(got 16\)/],
      [`k1:${key(1)},k1:${key(2)}`, /twice/],
      [`bad kid:${key(1)}`, /kid of/],
    ];
    for (const [value, message] of bad) {
      let error: unknown;
      try {
        parseVaultKeys(value);
      } catch (caught) {
        error = caught;
      }
      expect(error, String(value)).toBeInstanceOf(TokenVaultError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain(key(1));
    }
  });
});
