/** The console's HTML shell: no data and no token in the markup; the script fills the page from the JSON API. */
import { raw } from "hono/html";
import type { Child } from "hono/jsx";

export const CONSOLE_SCRIPT_PATH = "/console/console.js";
export const CONSOLE_STYLE_PATH = "/console/console.css";

/** A console page: `page` names the view the script renders (`connections` or `connection`). */
export function Layout(props: { title: string; page: "connections" | "connection"; nonce: string; children: Child }) {
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="referrer" content="no-referrer" />
          <title>{props.title} · Intercom Connector</title>
          <link rel="stylesheet" href={CONSOLE_STYLE_PATH} />
          <script src={CONSOLE_SCRIPT_PATH} nonce={props.nonce} defer />
        </head>
        <body data-page={props.page}>
          <a class="skip" href="#main">
            Skip to content
          </a>
          <header class="top">
            <a class="brand" href="/console">
              Intercom Connector
            </a>
            <nav aria-label="Console">
              <a href="/console">Connections</a>
              <a href="/docs">API reference</a>
              <button type="button" id="sign-out" class="link" hidden>
                Sign out
              </button>
            </nav>
          </header>
          <main id="main" tabindex={-1}>
            <p id="flash" class="flash" role="status" aria-live="polite" hidden />
            <noscript>
              <p class="flash error">The console needs JavaScript: it reads everything through the JSON API.</p>
            </noscript>
            <SignIn />
            <div id="app" hidden>
              {props.children}
            </div>
          </main>
        </body>
      </html>
    </>
  );
}

/** The token form. Its submission is handled by the script; CSP `form-action 'none'` stops any other. */
function SignIn() {
  return (
    <section id="sign-in" aria-labelledby="sign-in-title" hidden>
      <h1 id="sign-in-title">Sign in</h1>
      <form id="sign-in-form" method="post" class="card narrow">
        <label for="token">Admin token</label>
        <textarea
          id="token"
          name="token"
          rows={5}
          autocomplete="off"
          spellcheck={false}
          required
          aria-describedby="token-hint"
        />
        <p id="token-hint" class="hint">
          A JWT with the <code>admin</code> scope (from your CDP, or the one <code>npm run dev</code> prints). It is
          kept in this tab's session storage only, never in a cookie or a URL.
        </p>
        <p id="sign-in-error" class="field-error" role="alert" />
        <button type="submit">Sign in</button>
      </form>
    </section>
  );
}
