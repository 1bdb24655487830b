/**
 * Security headers. Every response says `X-Content-Type-Options: nosniff` (a JSON body is never sniffed into HTML);
 * the HTML pages (the console, the API reference) also get a Content-Security-Policy with a per-response nonce,
 * `frame-ancestors 'none'`, no referrer and no caching, through Hono's secureHeaders middleware.
 */
import type { MiddlewareHandler } from "hono";
import { NONCE, secureHeaders } from "hono/secure-headers";

/** Sets `X-Content-Type-Options: nosniff` on every response, error responses included. */
export const noSniff: MiddlewareHandler = async (c, next) => {
  await next();
  c.res.headers.set("X-Content-Type-Options", "nosniff");
};

type Sources = Array<string | typeof NONCE>;

/** CSP sources of a page beyond the strict base (which allows nothing but same-origin fetches). */
export interface PagePolicy {
  scriptSrc: Sources;
  styleSrc: Sources;
  fontSrc?: Sources;
  imgSrc?: Sources;
}

/**
 * Headers of an HTML page: CSP `default-src 'none'` plus `policy`, `connect-src 'self'`, no `<base>`, no form
 * submission (forms are handled by script, so a form can never put a token in a URL), never framed.
 * The nonce is `c.get("secureHeadersNonce")`.
 */
export function pageHeaders(policy: PagePolicy): MiddlewareHandler {
  const headers = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: policy.scriptSrc,
      styleSrc: policy.styleSrc,
      fontSrc: policy.fontSrc ?? ["'self'"],
      imgSrc: policy.imgSrc ?? ["'self'", "data:"],
      connectSrc: ["'self'"],
      manifestSrc: ["'self'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
      frameAncestors: ["'none'"],
    },
    xFrameOptions: "DENY",
    referrerPolicy: "no-referrer",
    crossOriginEmbedderPolicy: false,
  });
  return async (c, next) => {
    await headers(c, next);
    c.res.headers.set("Cache-Control", "no-store");
  };
}

export { NONCE };
