// Running Workers locally for the Node benchmarks: a snapshot of the app (so that edits made in the checkout during a
// run do not make `wrangler dev` rebuild and restart the Worker mid-request), `wrangler dev` in its own process group
// on a free port (stopped with the whole group), the local D1 of a persistence directory, and the dev vars a user has.
import { spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { parseDotVars } from "../../scripts/dev-vars.mjs";
import { ROOT } from "./report.mjs";

const WRANGLER = path.join(ROOT, "node_modules", ".bin", "wrangler");
export const CHILD_ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" };

/** Where wrangler runs: the checkout, or the snapshot `snapshotApp` made. */
let app = ROOT;
export const appRoot = () => app;

/**
 * Copies what the Workers are built from, as the working tree has it now (src, migrations, the simulator, the
 * configs; node_modules linked), into `dir`; every later wrangler command of this module runs there. Other people's
 * edits during a run then cannot restart the Worker ("Your worker restarted mid-request").
 */
export function snapshotApp(dir) {
  mkdirSync(dir, { recursive: true });
  const skip = (source) => !source.split(path.sep).includes(".wrangler");
  for (const entry of ["src", "migrations", "test/intercom-sim", "wrangler.toml", "package.json", "tsconfig.json"]) {
    cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true, filter: skip });
  }
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  app = dir;
  return dir;
}

/** A TCP port nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Runs wrangler to completion; its stdout, or an error with both outputs. */
export function wranglerSync(argv) {
  const result = spawnSync(WRANGLER, argv, {
    cwd: app,
    env: CHILD_ENV,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`wrangler ${argv.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** One SQL statement against the local D1 persisted in `persist` (also while `wrangler dev` holds it): its rows. */
export function d1(persist, sql) {
  const out = wranglerSync(["d1", "execute", "DB", "--local", "--persist-to", persist, "--json", "--command", sql]);
  return JSON.parse(out.slice(out.indexOf("[")))[0].results;
}

/** A SQL string literal. */
export const sqlString = (value) => `'${String(value).replaceAll("'", "''")}'`;

/**
 * The connector's dev vars as a user has them: the checkout's `.dev.vars` when there is one, else a copy of
 * `.dev.vars.example`. In a snapshot it is copied there as `.dev.vars` (wrangler reads it as usual); in the checkout
 * itself the example's copy goes to `dir` and is handed to wrangler with --env-file. Returns the values, the extra
 * args for `wrangler dev` and a label.
 */
export function devVars(dir) {
  const rootVars = path.join(ROOT, ".dev.vars");
  const source = existsSync(rootVars) ? rootVars : path.join(ROOT, ".dev.vars.example");
  const label = source === rootVars ? ".dev.vars" : ".dev.vars.example (copy)";
  const vars = parseDotVars(readFileSync(source, "utf8"));
  if (app !== ROOT) {
    copyFileSync(source, path.join(app, ".dev.vars"));
    return { file: path.join(app, ".dev.vars"), vars, args: [], label };
  }
  if (source === rootVars) return { file: rootVars, vars, args: [], label };
  const file = path.join(dir, ".dev.vars");
  copyFileSync(source, file);
  return { file, vars, args: ["--env-file", file], label };
}

/**
 * Starts `wrangler dev <args>` on a free port of 127.0.0.1 and waits until `readyPath` answers 2xx (`args` may be a
 * function of the Worker's base URL, for vars that name it, such as PUBLIC_URL). Returns
 * `{ base, inspectorPort, pid, processGroup, readyMs, stop }` (`pid` = `processGroup`: wrangler's, the leader of the
 * process group that holds its workerd); `stop()` ends the whole process group (SIGTERM, SIGKILL after 10 s).
 */
export async function startDev(options) {
  // A port found free may be taken before wrangler binds it: a start that fails is tried again on other ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevOnce({
        ...options,
        logFile: attempt === 1 ? options.logFile : `${options.logFile}.${attempt}`,
      });
    } catch (error) {
      if (attempt >= 3) throw error;
      console.error(`[bench] ${error.message}; starting it again`);
    }
  }
}

async function startDevOnce({ args, logFile, readyPath = "/healthz", readyHeaders = {}, timeoutMs = 120_000 }) {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const base = `http://127.0.0.1:${port}`;
  const log = createWriteStream(logFile);
  const started = performance.now();
  const child = spawn(
    WRANGLER,
    [
      "dev",
      ...(typeof args === "function" ? args(base) : args),
      "--port",
      String(port),
      "--ip",
      "127.0.0.1",
      "--inspector-port",
      String(inspectorPort),
      "--show-interactive-dev-session=false",
    ],
    { cwd: app, env: CHILD_ENV, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const signal = (name) => {
      try {
        process.kill(-child.pid, name);
      } catch {
        // already gone
      }
    };
    signal("SIGTERM");
    const timedOut = await Promise.race([
      exited.then(() => false),
      new Promise((resolve) => setTimeout(() => resolve(true), 10_000)),
    ]);
    if (timedOut) signal("SIGKILL");
  };
  while (performance.now() - started < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}; see ${logFile}`);
    try {
      if ((await fetch(`${base}${readyPath}`, { headers: readyHeaders })).ok)
        return {
          base,
          inspectorPort,
          pid: child.pid,
          processGroup: child.pid,
          readyMs: performance.now() - started,
          stop,
        };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`wrangler dev did not answer ${readyPath} within ${timeoutMs / 1000} s; see ${logFile}`);
}

/**
 * One benchmark run's scratch space: a temporary directory under `baseDir` (left in place with `keep`), the local D1
 * persisted in it, and every `wrangler dev` started through `start`; all stopped on the way out, Ctrl-C included.
 */
export function benchSession({ prefix, keep = false, baseDir = os.tmpdir() }) {
  const tmp = mkdtempSync(path.join(baseDir, prefix));
  const persist = path.join(tmp, "state");
  const started = [];
  const cleanup = async () => {
    for (const worker of started) await worker.stop();
    if (!keep) rmSync(tmp, { recursive: true, force: true });
  };
  process.on("SIGINT", () => cleanup().then(() => process.exit(130)));
  process.on("SIGTERM", () => cleanup().then(() => process.exit(143)));
  return {
    tmp,
    persist,
    cleanup,
    d1: (sql) => d1(persist, sql),
    async start(options) {
      const worker = await startDev(options);
      started.push(worker);
      return worker;
    },
    /** Runs `main`, cleans up whatever happened, and exits (1 when `main` threw). */
    async run(main) {
      let exitCode = 0;
      try {
        await main();
      } catch (error) {
        console.error(error);
        exitCode = 1;
      } finally {
        await cleanup();
      }
      process.exit(exitCode);
    },
  };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Node 20 has WebSocket (for the inspector) behind a flag: re-runs this script with it when it is missing. */
export function relaunchWithWebSocket() {
  if (typeof WebSocket !== "undefined") return;
  const again = spawnSync(process.execPath, ["--experimental-websocket", ...process.argv.slice(1)], {
    stdio: "inherit",
  });
  process.exit(again.status ?? 1);
}

/** A DevTools protocol session with the Worker behind `wrangler dev --inspector-port <port>`. */
export async function inspector(port) {
  const [target] = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  // The inspector proxy of `wrangler dev` takes local origins only.
  const socket = new WebSocket(target.webSocketDebuggerUrl, { headers: { origin: "http://127.0.0.1" } });
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error(`cannot open the inspector at ${target.webSocketDebuggerUrl}`));
  });
  let id = 0;
  const pending = new Map();
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  };
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const messageId = ++id;
      pending.set(messageId, (message) =>
        message.error ? reject(new Error(`${method}: ${message.error.message}`)) : resolve(message.result),
      );
      socket.send(JSON.stringify({ id: messageId, method, params }));
    });
  return { send, close: () => socket.close() };
}

/** Polls the isolate's used heap every `intervalMs` until the returned `stop()`, which resolves to its peak. */
export function heapPoller(cdp, intervalMs = 10) {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, (await cdp.send("Runtime.getHeapUsage")).usedSize);
      await sleep(intervalMs);
    }
  })();
  return async () => {
    running = false;
    await loop;
    return peak;
  };
}
