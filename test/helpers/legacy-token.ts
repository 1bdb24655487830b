/** Tokens as older versions of the vault stored them, for tests of what still has to open. */
import { base64url, CompactEncrypt } from "jose";

/**
 * A token sealed the way the vault did before tokens were bound to their connection: a compact `dir` + `A256GCM` JWE
 * under the first key of `vaultKeys` (`kid:base64url-key[,…]`) itself.
 */
export async function sealUnbound(vaultKeys: string, token: string): Promise<string> {
  const [kid, encoded] = vaultKeys.split(",")[0]!.split(":") as [string, string];
  return new CompactEncrypt(new TextEncoder().encode(token))
    .setProtectedHeader({ alg: "dir", enc: "A256GCM", kid })
    .encrypt(base64url.decode(encoded));
}
