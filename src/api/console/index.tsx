/**
 * `/console`: the operators' console, served by the Worker. Pages are server-rendered with Hono's JSX and hold no
 * data; `console.js` (plain browser script, no build step) signs in with a pasted admin token kept in
 * sessionStorage and does everything through the public JSON API. Strict CSP: scripts only with the response's
 * nonce, styles and connections same-origin, no framing, no form submission.
 */
import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { NONCE, pageHeaders } from "../security-headers";
import consoleStyle from "./assets/console.css";
import consoleScript from "./assets/console.js";
import { Layout } from "./layout";
import { ConnectionPage, ConnectionsPage } from "./pages";

const page = pageHeaders({ scriptSrc: [NONCE], styleSrc: ["'self'"] });
const asset = (type: string) => ({ "content-type": type, "cache-control": "no-cache" });

export const consoleApp = new Hono<AppEnv>()
  .get("/", page, (c) =>
    c.html(
      <Layout title="Connections" page="connections" nonce={c.get("secureHeadersNonce") ?? ""}>
        <ConnectionsPage />
      </Layout>,
    ),
  )
  .get("/connections/:id", page, (c) =>
    c.html(
      <Layout title="Connection" page="connection" nonce={c.get("secureHeadersNonce") ?? ""}>
        <ConnectionPage />
      </Layout>,
    ),
  )
  .get("/console.js", (c) => c.body(consoleScript, 200, asset("text/javascript; charset=utf-8")))
  .get("/console.css", (c) => c.body(consoleStyle, 200, asset("text/css; charset=utf-8")));
