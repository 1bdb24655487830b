// Bindings only the benchmarks' config sets (vitest.bench.config.ts).
declare global {
  namespace Cloudflare {
    interface Env {
      /** "1" in smoke mode (`npm run bench -- --smoke`): tiny workloads. */
      BENCH_SMOKE?: string;
      /** "1" for `npm run bench -- import-100k`: import.bench.ts runs its 100,000-contact import instead. */
      BENCH_IMPORT_100K?: string;
    }
  }
}

export {};
