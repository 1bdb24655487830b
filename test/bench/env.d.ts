// Bindings only the benchmarks' config sets (vitest.bench.config.ts).
declare global {
  namespace Cloudflare {
    interface Env {
      /** "1" in smoke mode (`npm run bench -- --smoke`): tiny workloads. */
      BENCH_SMOKE?: string;
    }
  }
}

export {};
