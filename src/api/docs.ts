/**
 * `GET /docs`: the interactive API reference, rendered by Scalar (`@scalar/hono-api-reference`) from
 * `/openapi.json`. The page is a small HTML document; Scalar's browser bundle (about 1 MB gzip, too large to ship
 * inside the Worker) comes from jsDelivr at a pinned version, so the page needs the browser to reach
 * `cdn.jsdelivr.net` (README, API reference). Its scripts carry the response's CSP nonce.
 */
import { Scalar } from "@scalar/hono-api-reference";
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { NONCE, pageHeaders } from "./security-headers";

/** The Scalar browser bundle: pinned, so a new release cannot change the page without a commit. */
export const SCALAR_BUNDLE_URL = "https://cdn.jsdelivr.net/npm/@scalar/api-reference@1.76.0/dist/browser/standalone.js";
const CDN_ORIGIN = "https://cdn.jsdelivr.net";

export const docs = new Hono<AppEnv>().get(
  "/docs",
  pageHeaders({
    scriptSrc: [NONCE, CDN_ORIGIN],
    // The reference's components set inline styles at run time; a style nonce would disable 'unsafe-inline'.
    styleSrc: ["'self'", "'unsafe-inline'", CDN_ORIGIN],
    fontSrc: ["'self'", "data:", CDN_ORIGIN],
  }),
  Scalar((c) => ({
    url: "/openapi.json",
    pageTitle: "Intercom Connector API reference",
    cdn: SCALAR_BUNDLE_URL,
    nonce: c.get("secureHeadersNonce"),
    // No third-party font host, no telemetry.
    withDefaultFonts: false,
    telemetry: false,
  })),
);
