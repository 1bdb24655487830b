// The size of a built Worker as Cloudflare counts it: the .js/.wasm files of the output directory, raw and gzipped
// (level 9); shared by `npm run build` and the bundle benchmark.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

/**
 * Raw and gzip bytes of the Worker's code in `outdir`, and the entry module: the JavaScript file with a source map
 * (text modules such as the console's script are .js files too, without one).
 */
export function bundleSize(outdir) {
  let raw = 0;
  let gzip = 0;
  let main = null;
  for (const file of readdirSync(outdir)) {
    const full = path.join(outdir, file);
    if (!statSync(full).isFile() || !/\.(m?js|wasm)$/.test(file)) continue;
    const bytes = readFileSync(full);
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
    if (/\.m?js$/.test(file) && existsSync(`${full}.map`)) main ??= full;
  }
  return { raw, gzip, main };
}
