import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, afterEach, expect } from "vitest";
import { app } from "../src/api/app";
import worker from "../src/index";
import { takePlatformLimitViolations } from "../src/platform/invocation";
import {
  bindingSecrets,
  captureConsole,
  captureResponses,
  describeLeaks,
  dumpD1,
  findLeaks,
  LeakRecorder,
  SCANNER_KEY,
  type Scanner,
} from "./helpers/leaks";

// Storage is isolated per test file; migrations apply once per file (applyD1Migrations skips applied ones).
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
await applyD1Migrations(env.DATA_2, env.TEST_MIGRATIONS);

// The secrets scanner (test/helpers/leaks.ts): every console line and every connector response of this file is
// recorded; after the file, none of them, nor any D1 row, may hold a test secret or an access token.
const globals = globalThis as { [SCANNER_KEY]?: Scanner };
// An isolate reused by another test file: undo the previous file's wrappers before wrapping again.
for (const restore of globals[SCANNER_KEY]?.restore.reverse() ?? []) restore();

const recorder = new LeakRecorder(() => {
  const state = expect.getState();
  const file = state.testPath?.replace(/^.*?(?=test\/)/, "") ?? "(unknown file)";
  return state.currentTestName ? `${file} › ${state.currentTestName}` : file;
});
globals[SCANNER_KEY] = {
  recorder,
  restore: [
    captureConsole(recorder, { passThrough: true }),
    // `exports.default.fetch` (and the msw proxy of https://connector.test) calls the entry module's handler;
    // `app.request`/`app.fetch` call the app's own.
    captureResponses(recorder, worker, "fetch"),
    captureResponses(recorder, app, "fetch"),
  ],
};

// The platform-limits layer (src/platform/, on in every test) records each production limit crossed, also where the
// connector catches the error (a consumer retrying the message): a test that crossed one fails, naming it.
afterEach(() => {
  const crossed = takePlatformLimitViolations().map((error) => error.message);
  expect(crossed, "production platform limits crossed (see src/platform/limits.ts)").toEqual([]);
});

afterAll(async () => {
  const items = [...recorder.items, ...(await dumpD1(env.DB))];
  const leaks = findLeaks(items, bindingSecrets(env));
  expect(leaks, `secrets leaked:\n${describeLeaks(leaks)}`).toEqual([]);
});
