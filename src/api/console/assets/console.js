// @ts-check
// The operators' console in the browser. Served by the Worker as a plain script (no build step) with the page's CSP
// nonce. It signs in with a pasted admin token kept in sessionStorage (never a cookie or a URL), and does everything
// through the public JSON API. Text from the API only ever enters the page through text nodes (textContent,
// append(string)), never as HTML.
(() => {
  const TOKEN_KEY = "intercom-connector.admin-token";
  const FLASH_KEY = "intercom-connector.flash";
  const REFRESH_MS = 5_000;
  const TABS = ["connection", "source", "destination", "log", "summary"];
  const SOURCE_FLAGS = [
    "capture_chat_events",
    "capture_user_events",
    "create_users_from_contacts",
    "create_accounts_from_companies",
    "capture_relationships",
    "import_on_enable",
  ];

  /** An API answer other than 2xx, with its problem+json body when there is one. */
  class ApiError extends Error {
    /**
     * @param {number} status
     * @param {any} problem
     */
    constructor(status, problem) {
      super(problem?.detail || `The API answered ${status}.`);
      this.status = status;
      this.problem = problem;
    }
  }

  /**
   * @param {string} id
   * @returns {HTMLElement}
   */
  function byId(id) {
    const element = document.getElementById(id);
    if (!element) throw new Error(`#${id} is missing from the page`);
    return element;
  }
  const input = (/** @type {string} */ id) => /** @type {HTMLInputElement} */ (byId(id));
  const select = (/** @type {string} */ id) => /** @type {HTMLSelectElement} */ (byId(id));

  /**
   * An element with attributes and children; strings become text nodes.
   * @param {string} tag
   * @param {Record<string, string | number | boolean | undefined | null>} [attributes]
   * @param {Array<Node | string | null | undefined>} children
   * @returns {HTMLElement}
   */
  function h(tag, attributes = {}, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "class") element.className = String(value);
      else element.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) if (child !== null && child !== undefined) element.append(child);
    return element;
  }

  const token = () => sessionStorage.getItem(TOKEN_KEY);

  /**
   * Calls the JSON API with the admin token. A 401 signs out (the token expired or was replaced).
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   */
  async function api(method, path, body) {
    /** @type {Record<string, string>} */
    const headers = { accept: "application/json", authorization: `Bearer ${token() ?? ""}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = { detail: `The API answered ${response.status} with a body that is not JSON.` };
    }
    if (response.status === 401) {
      signOut(`Signed out: ${data?.detail ?? "the token was refused"}`);
      throw new ApiError(401, data);
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  const connectionPath = (/** @type {string} */ id) => `/v1/connections/${encodeURIComponent(id)}`;
  const errorText = (/** @type {unknown} */ error) => (error instanceof Error ? error.message : String(error));

  /**
   * @param {string} message
   * @param {boolean} [isError]
   */
  function flash(message, isError = false) {
    const box = byId("flash");
    box.textContent = message;
    box.classList.toggle("error", isError);
    box.hidden = false;
  }

  /** @param {string} message */
  function flashAfterNavigation(message) {
    sessionStorage.setItem(FLASH_KEY, message);
  }

  /** @param {string} message */
  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    stopTimers();
    byId("app").hidden = true;
    byId("sign-out").hidden = true;
    byId("sign-in").hidden = false;
    flash(message, true);
  }

  /** @type {number[]} */
  let timers = [];
  function stopTimers() {
    for (const timer of timers) clearInterval(timer);
    timers = [];
  }

  /** Marks a field invalid with its message beside it (or clears it). */
  function fieldError(
    /** @type {HTMLElement} */ field,
    /** @type {HTMLElement} */ message,
    /** @type {string} */ text,
  ) {
    message.textContent = text;
    if (text) {
      field.setAttribute("aria-invalid", "true");
      if (message.id) field.setAttribute("aria-describedby", message.id);
    } else field.removeAttribute("aria-invalid");
  }

  function clearErrors(/** @type {HTMLElement} */ form) {
    for (const message of form.querySelectorAll(".field-error")) message.textContent = "";
    for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
  }

  /**
   * Shows a failed request: each `errors` entry beside its field when `fieldFor` knows it, else in `formMessage`.
   * @param {unknown} error
   * @param {HTMLElement} formMessage
   * @param {(path: string) => [HTMLElement, HTMLElement] | null} [fieldFor]
   */
  function showProblem(error, formMessage, fieldFor = () => null) {
    if (!(error instanceof ApiError)) {
      formMessage.textContent = errorText(error);
      return;
    }
    if (error.status === 401) return;
    const unplaced = [];
    for (const entry of error.problem?.errors ?? []) {
      const target = fieldFor(String(entry.path));
      if (target) fieldError(target[0], target[1], String(entry.message));
      else unplaced.push(`${entry.path}: ${entry.message}`);
    }
    const placed = (error.problem?.errors ?? []).length - unplaced.length;
    const headline =
      placed > 0 && unplaced.length === 0 ? "Not saved: see the messages beside the fields." : error.message;
    formMessage.textContent = [headline, ...unplaced].join(" ");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Sign in

  async function onSignIn(/** @type {SubmitEvent} */ event) {
    event.preventDefault();
    const field = /** @type {HTMLTextAreaElement} */ (byId("token"));
    const message = byId("sign-in-error");
    const value = field.value.trim();
    fieldError(field, message, "");
    if (!/^[\w-]+\.[\w-]+\.[\w-]*$/.test(value)) {
      fieldError(field, message, "This is not a JWT (three dot-separated parts).");
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, value);
    try {
      await api("GET", "/v1/connections");
    } catch (error) {
      sessionStorage.removeItem(TOKEN_KEY);
      const status = error instanceof ApiError ? error.status : 0;
      const why = status === 403 ? "this token lacks the admin scope." : errorText(error);
      byId("sign-in").hidden = false;
      fieldError(field, message, `Not signed in: ${why}`);
      return;
    }
    field.value = "";
    byId("flash").hidden = true;
    start();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Connections list, connecting

  const STATUS_CLASS = { connected: "ok", revoked: "bad", error: "bad", disconnected: "warn" };

  /** @param {string} status */
  function statusBadge(status) {
    return h("span", { class: `badge ${STATUS_CLASS[/** @type {keyof STATUS_CLASS} */ (status)] ?? "warn"}` }, status);
  }

  const onOff = (/** @type {boolean} */ on) => (on ? "on" : "off");

  async function initConnections() {
    byId("oauth-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const message = byId("oauth-form-error");
      message.textContent = "";
      const name = input("oauth-name").value.trim();
      try {
        const started = await api("POST", "/v1/connections/oauth", name ? { name } : {});
        location.assign(started.authorize_url);
      } catch (error) {
        showProblem(error, message);
      }
    });
    byId("token-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = byId("token-form");
      clearErrors(form);
      const region = select("token-region").value;
      const body = {
        name: input("token-name").value,
        access_token: input("access-token").value,
        ...(region ? { region } : {}),
      };
      /** @type {Record<string, [HTMLElement, HTMLElement]>} */
      const fields = {
        name: [input("token-name"), byId("token-name-error")],
        access_token: [input("access-token"), byId("access-token-error")],
      };
      try {
        const connection = await api("POST", "/v1/connections", body);
        flashAfterNavigation(`Connected ${connection.name}.`);
        location.assign(`/console/connections/${encodeURIComponent(connection.id)}`);
      } catch (error) {
        showProblem(error, byId("token-form-error"), (path) => fields[path] ?? null);
      }
    });
    await loadConnections();
  }

  async function loadConnections() {
    const { items } = await api("GET", "/v1/connections");
    const body = byId("connections-body");
    body.replaceChildren(
      ...items.map((/** @type {any} */ connection) =>
        h(
          "tr",
          {},
          h("td", {}, h("a", { href: `/console/connections/${encodeURIComponent(connection.id)}` }, connection.name)),
          h("td", {}, statusBadge(connection.status)),
          h(
            "td",
            {},
            `${connection.intercom.name ?? "—"} (${connection.intercom.app_id ?? "no app"}, ${connection.intercom.region})`,
          ),
          h("td", {}, onOff(connection.source.enabled)),
          h("td", {}, onOff(connection.destination.enabled)),
        ),
      ),
    );
    byId("connections-empty").hidden = items.length > 0;
    byId("connections-table").hidden = items.length === 0;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // One connection: tabs

  const connectionId = decodeURIComponent(location.pathname.split("/").pop() ?? "");
  /** @type {any} */
  let current = null;
  let activeTab = "connection";

  /** @param {string} name */
  function selectTab(name, focus = false) {
    activeTab = TABS.includes(name) ? name : "connection";
    stopTimers();
    for (const tab of TABS) {
      const button = byId(`tab-${tab}`);
      const selected = tab === activeTab;
      button.setAttribute("aria-selected", String(selected));
      button.tabIndex = selected ? 0 : -1;
      byId(`panel-${tab}`).hidden = !selected;
      if (selected && focus) button.focus();
    }
    history.replaceState(null, "", `#${activeTab}`);
    if (activeTab === "log") {
      loadLog();
      if (input("log-auto").checked) timers.push(window.setInterval(refreshLog, REFRESH_MS));
    }
    if (activeTab === "summary") {
      loadSummary();
      timers.push(window.setInterval(loadSummary, REFRESH_MS));
    }
  }

  function initTabs() {
    TABS.forEach((tab, index) => {
      const button = byId(`tab-${tab}`);
      button.addEventListener("click", () => selectTab(tab));
      button.addEventListener("keydown", (event) => {
        const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: TABS.length - 1 };
        const to = moves[/** @type {keyof moves} */ (event.key)];
        if (to === undefined) return;
        event.preventDefault();
        selectTab(TABS[(to + TABS.length) % TABS.length] ?? "connection", true);
      });
    });
  }

  async function initConnection() {
    initTabs();
    initSettingsForms();
    initLog();
    initSummary();
    try {
      current = await api("GET", connectionPath(connectionId));
    } catch (error) {
      flash(`This connection cannot be shown: ${errorText(error)}`, true);
      return;
    }
    fillSettings();
    selectTab(location.hash.slice(1) || "connection");
    window.addEventListener("hashchange", () => {
      if (location.hash.slice(1) !== activeTab) selectTab(location.hash.slice(1));
    });
  }

  function fillSettings() {
    document.title = `${current.name} · Intercom Connector`;
    byId("connection-title").textContent = current.name;
    const line = byId("connection-status");
    line.replaceChildren(
      statusBadge(current.status),
      ` Intercom workspace ${current.intercom.name ?? "—"} (${current.intercom.app_id ?? "no app"}, ${current.intercom.region})`,
    );
    input("name").value = current.name;
    input("source-enabled").checked = current.source.enabled;
    input("destination-enabled").checked = current.destination.enabled;
    for (const flag of SOURCE_FLAGS) input(`source-${flag}`).checked = Boolean(current.source[flag]);
    select("on-contact-deleted").value = current.source.on_contact_deleted ?? "unlink";
    input("segments").value = current.destination.segments.join(", ");
    input("allow-create").checked = current.destination.allow_create;
    input("clear-removed").checked = Boolean(current.destination.clear_removed);
    select("on-erase").value = current.destination.on_erase ?? "none";
    for (const model of ["contact", "company"]) {
      byId(`mappings-${model}-rows`).replaceChildren();
      for (const mapping of current.destination.mappings[model]) addMappingRow(model, mapping);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Settings: Connection, Source, Destination (each a PATCH of its own keys), test, preview

  /**
   * @param {string} formId
   * @param {() => unknown} patch
   * @param {(path: string) => [HTMLElement, HTMLElement] | null} [fieldFor]
   */
  function onSave(formId, patch, fieldFor) {
    const form = byId(formId);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      try {
        current = await api("PATCH", connectionPath(connectionId), patch());
        fillSettings();
        flash("Saved.");
      } catch (error) {
        showProblem(error, byId(`${formId}-error`), fieldFor);
      }
    });
  }

  function initSettingsForms() {
    onSave(
      "connection-form",
      () => ({
        name: input("name").value,
        source: { enabled: input("source-enabled").checked },
        destination: { enabled: input("destination-enabled").checked },
      }),
      (path) => (path === "name" ? [input("name"), byId("name-error")] : null),
    );
    onSave("source-form", () => ({
      source: {
        ...Object.fromEntries(SOURCE_FLAGS.map((flag) => [flag, input(`source-${flag}`).checked])),
        on_contact_deleted: select("on-contact-deleted").value,
      },
    }));
    onSave(
      "destination-form",
      () => ({
        destination: {
          segments: input("segments")
            .value.split(",")
            .map((segment) => segment.trim())
            .filter(Boolean),
          allow_create: input("allow-create").checked,
          clear_removed: input("clear-removed").checked,
          on_erase: select("on-erase").value,
          mappings: { contact: readMappings("contact"), company: readMappings("company") },
        },
      }),
      mappingField,
    );
    for (const button of document.querySelectorAll(".add-mapping")) {
      button.addEventListener("click", () => {
        const model = /** @type {HTMLElement} */ (button).dataset.model ?? "contact";
        addMappingRow(model, { from: "", to: "", type: "" }).querySelector("input")?.focus();
      });
    }
    byId("test-connection").addEventListener("click", async () => {
      const result = byId("test-result");
      result.textContent = "Testing…";
      try {
        const test = await api("POST", `${connectionPath(connectionId)}/test`);
        result.textContent = test.ok
          ? `The token works: Intercom workspace ${test.app?.name ?? test.app?.id} (${test.app?.region}).`
          : `The token does not work: ${test.detail ?? "unknown reason"}.`;
      } catch (error) {
        result.textContent = errorText(error);
      }
    });
    byId("preview-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const output = byId("preview-output");
      const message = byId("preview-form-error");
      message.textContent = "";
      output.hidden = true;
      const userId = input("preview-user").value.trim();
      try {
        const preview = await api(
          "GET",
          `${connectionPath(connectionId)}/preview?user_id=${encodeURIComponent(userId)}`,
        );
        output.textContent = JSON.stringify(preview, null, 2);
        output.hidden = false;
      } catch (error) {
        showProblem(error, message);
      }
    });
  }

  /**
   * Appends an editable mapping row to a model's table; returns the row.
   * @param {string} model
   * @param {{ from: string, to: string, type?: string }} mapping
   */
  function addMappingRow(model, mapping) {
    const template = /** @type {HTMLTemplateElement} */ (byId("mapping-row"));
    const row = /** @type {HTMLElement} */ (template.content.firstElementChild?.cloneNode(true));
    row.querySelector(".remove-mapping")?.addEventListener("click", () => {
      row.remove();
      numberMappingRows(model);
    });
    byId(`mappings-${model}-rows`).append(row);
    const field = (/** @type {string} */ name) =>
      /** @type {HTMLInputElement} */ (row.querySelector(`[data-field="${name}"]`));
    field("from").value = mapping.from;
    field("to").value = mapping.to;
    field("to").setAttribute("list", `targets-${model}`);
    field("type").value = mapping.type ?? "";
    numberMappingRows(model);
    return row;
  }

  /** Gives a model's rows ids `m-<model>-<index>-<field>` (labels and error messages follow). */
  function numberMappingRows(/** @type {string} */ model) {
    const rows = byId(`mappings-${model}-rows`).querySelectorAll("tr");
    rows.forEach((row, index) => {
      for (const name of ["from", "to", "type"]) {
        const id = `m-${model}-${index}-${name}`;
        const field = /** @type {HTMLElement} */ (row.querySelector(`[data-field="${name}"]`));
        field.id = id;
        field.setAttribute("aria-label", `${model} mapping ${index + 1}: ${field.dataset.label}`);
        const error = row.querySelector(`[data-error="${name}"]`);
        if (error) error.id = `${id}-error`;
      }
      row.querySelector(".remove-mapping")?.setAttribute("aria-label", `Remove ${model} mapping ${index + 1}`);
    });
  }

  /** @param {string} model */
  function readMappings(model) {
    return [...byId(`mappings-${model}-rows`).querySelectorAll("tr")].map((row) => {
      const value = (/** @type {string} */ name) =>
        /** @type {HTMLInputElement} */ (row.querySelector(`[data-field="${name}"]`)).value;
      const type = value("type");
      return { from: value("from"), to: value("to"), ...(type ? { type } : {}) };
    });
  }

  /**
   * The field and message of a 422 path such as `destination.mappings.contact.0.type`.
   * @param {string} path
   * @returns {[HTMLElement, HTMLElement] | null}
   */
  function mappingField(path) {
    const mapping = /^destination\.mappings\.(contact|company)\.(\d+)(?:\.(from|to|type))?$/.exec(path);
    if (mapping) {
      const [, model, index, name] = mapping;
      const id = `m-${model}-${index}-${name ?? "to"}`;
      const field = document.getElementById(id);
      const message = document.getElementById(`${id}-error`);
      return field && message ? [field, message] : null;
    }
    if (path.startsWith("destination.segments")) return [input("segments"), byId("segments-error")];
    if (path === "destination.clear_removed") return [input("clear-removed"), byId("clear-removed-error")];
    return null;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Log: filters, search, paging, auto-refresh

  /** @type {string[]} */
  let logCursors = [];
  /** @type {string | null} */
  let nextCursor = null;

  function initLog() {
    byId("log-filters").addEventListener("submit", (event) => {
      event.preventDefault();
      logCursors = [];
      loadLog();
    });
    for (const id of ["log-direction", "log-outcome", "log-object"]) {
      byId(id).addEventListener("change", () => {
        logCursors = [];
        loadLog();
      });
    }
    input("log-auto").addEventListener("change", () => selectTab("log"));
    byId("log-newest").addEventListener("click", () => {
      logCursors = [];
      loadLog();
    });
    byId("log-older").addEventListener("click", () => {
      if (!nextCursor) return;
      logCursors.push(nextCursor);
      loadLog();
    });
  }

  /** Auto-refresh reloads only the newest page: an older page stays as the operator is reading it. */
  function refreshLog() {
    if (logCursors.length === 0) loadLog();
  }

  async function loadLog() {
    const query = new URLSearchParams({ limit: "50" });
    const filters = {
      direction: select("log-direction").value,
      outcome: select("log-outcome").value,
      object_type: select("log-object").value,
      q: input("log-q").value.trim(),
    };
    for (const [key, value] of Object.entries(filters)) if (value) query.set(key, value);
    const cursor = logCursors.at(-1);
    if (cursor) query.set("cursor", cursor);
    const message = byId("log-error");
    try {
      const page = await api("GET", `${connectionPath(connectionId)}/logs?${query}`);
      message.textContent = "";
      nextCursor = page.next_cursor;
      byId("log-body").replaceChildren(...page.items.map(logRow));
      byId("log-empty").hidden = page.items.length > 0;
      /** @type {HTMLButtonElement} */ (byId("log-older")).disabled = !nextCursor;
    } catch (error) {
      showProblem(error, message);
    }
  }

  /** @param {any} item */
  function logRow(item) {
    const bad = ["failed", "conflict", "dead_letter", "parked"].includes(item.outcome);
    return h(
      "tr",
      {},
      h("td", {}, h("time", { datetime: item.created_at }, new Date(item.created_at).toLocaleString())),
      h("td", {}, item.direction),
      h("td", {}, h("span", { class: `badge ${bad ? "bad" : "ok"}` }, item.outcome)),
      h("td", {}, item.object_type),
      h("td", {}, [item.object_id, item.email].filter(Boolean).join(" · ") || "—"),
      h("td", {}, item.action ?? ""),
      h("td", {}, item.detail ?? ""),
    );
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Summary, jobs, dead letters

  function initSummary() {
    byId("resync").addEventListener("click", async () => {
      const message = byId("jobs-message");
      message.textContent = "Starting a resync…";
      try {
        const job = await api("POST", `${connectionPath(connectionId)}/resync`);
        message.textContent = `Resync started: ${job.total} user(s) to sync. Progress below; their syncs appear in the Log.`;
        loadSummary();
      } catch (error) {
        // 409 with the running job: one resync runs at a time (cancel it first, or wait).
        const running = error instanceof ApiError ? error.problem?.job : null;
        message.textContent = running
          ? `A resync is already running (${running.synced + running.noop + running.skipped + running.failed} of ${running.total} done): wait, or cancel it.`
          : `Resync not started: ${errorText(error)}`;
        loadSummary();
      }
    });
    byId("resync-cancel").addEventListener("click", async () => {
      const message = byId("jobs-message");
      try {
        await api("DELETE", `${connectionPath(connectionId)}/resync`);
        message.textContent = "Resync cancelled: syncs already under way finish.";
      } catch (error) {
        message.textContent = `Resync not cancelled: ${errorText(error)}`;
      }
      loadSummary();
    });
    byId("replay").addEventListener("click", async () => {
      const message = byId("summary-error");
      try {
        const { replayed } = await api("POST", `${connectionPath(connectionId)}/dead-letters/replay`);
        flash(`Replayed ${replayed} dead letter(s).`);
        loadSummary();
      } catch (error) {
        showProblem(error, message);
      }
    });
    // Imports have their own API only once it is deployed: the form shows when the API answers.
    api("GET", `${connectionPath(connectionId)}/imports`)
      .then(initImportForm)
      .catch(() => {});
  }

  /** The API's default window of past conversations (`conversations_since` left out). */
  const CONVERSATION_DAYS = 90;
  const PHASE_LABELS = { conversations: "Past conversations", events: "Past data events" };

  /** A day `days` before today as an `<input type=date>` value, in the browser's time zone. */
  function daysAgo(/** @type {number} */ days) {
    const day = new Date();
    day.setDate(day.getDate() - days);
    const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
    return `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`;
  }

  /**
   * The start request of the import form: only the parts that are ticked, so `{}` imports the objects alone. A
   * `since` day starts at the operator's midnight; an empty one leaves the API's default.
   * @returns {Record<string, unknown>}
   */
  function importBody() {
    /** @type {Record<string, unknown>} */
    const body = {};
    if (input("import-tags").checked) body.include_tags = true;
    if (input("import-conversations").checked) {
      body.include_conversations = true;
      const since = input("import-conversations-since").value;
      if (since) body.conversations_since = new Date(`${since}T00:00`).toISOString();
    }
    if (input("import-events").checked) body.include_events = true;
    return body;
  }

  /**
   * What the 202 answer says beyond "started": the events phase's stated cost, and the parts a source setting skips.
   * @param {any} started
   */
  function importStartedText(started) {
    const parts = ["Import started"];
    if (typeof started?.estimated_calls === "number") {
      parts.push(`data events will cost about ${started.estimated_calls.toLocaleString()} Intercom calls`);
    }
    for (const phase of started?.phases ?? []) {
      if (!phase.skipped_reason) continue;
      const label = PHASE_LABELS[/** @type {keyof PHASE_LABELS} */ (phase.object)] ?? phase.object;
      parts.push(`${label.toLowerCase()} skipped: ${phase.skipped_reason}`);
    }
    return `${parts.join("; ")}. Progress above.`;
  }

  function initImportForm() {
    const form = byId("import-form");
    const conversations = input("import-conversations");
    const since = input("import-conversations-since");
    since.value = daysAgo(CONVERSATION_DAYS);
    since.max = daysAgo(0);
    const syncSince = () => {
      since.disabled = !conversations.checked;
    };
    conversations.addEventListener("change", syncSince);
    syncSince();
    form.hidden = false;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const message = byId("import-message");
      const formError = byId("import-form-error");
      const button = /** @type {HTMLButtonElement} */ (byId("import"));
      message.textContent = "Starting an import…";
      // One start per click: a second would only be refused as running.
      button.disabled = true;
      try {
        const started = await api("POST", `${connectionPath(connectionId)}/imports`, importBody());
        message.textContent = importStartedText(started);
        loadSummary();
      } catch (error) {
        message.textContent = "";
        if (error instanceof ApiError && error.status === 401) return;
        // 409: an import runs already (or the connection or its source is off); 422: the request, per field.
        const unplaced = [];
        for (const entry of error instanceof ApiError ? (error.problem?.errors ?? []) : []) {
          if (entry.path === "conversations_since") {
            fieldError(since, byId("import-conversations-since-error"), String(entry.message));
          } else unplaced.push(`${entry.path}: ${entry.message}`);
        }
        const placed = since.hasAttribute("aria-invalid") && unplaced.length === 0;
        const why = placed ? "see the message beside the date." : errorText(error);
        formError.textContent = [`Import not started: ${why}`, ...unplaced].join(" ");
      } finally {
        button.disabled = false;
      }
    });
  }

  const when = (/** @type {string | null} */ iso) => (iso ? new Date(iso).toLocaleString() : "never");

  /**
   * @param {string} label
   * @param {Array<Node | string>} value
   */
  const figure = (label, ...value) => h("div", {}, h("dt", {}, label), h("dd", {}, ...value));

  /** @param {any} row */
  const latestText = (row) =>
    row
      ? `${when(row.at)}: ${row.object_type} ${row.object_id ?? ""} ${row.action ?? ""} ${row.detail ?? ""}`
      : "never";

  async function loadSummary() {
    const message = byId("summary-error");
    let summary;
    try {
      summary = await api("GET", `${connectionPath(connectionId)}/summary`);
      message.textContent = "";
    } catch (error) {
      showProblem(error, message);
      return;
    }
    const budget = summary.rate_budget;
    const budgetValue = budget
      ? [
          h("meter", { min: 0, max: 1, value: budget.used_share, "aria-label": "Rate budget used" }),
          `${Math.round(budget.used_share * 100)} % of ${budget.limit} calls used in the window ending ${when(budget.window_ends_at)}`,
        ]
      : ["no Intercom call yet"];
    byId("summary-figures").replaceChildren(
      figure("Status", statusBadge(summary.status), summary.status_detail ? ` ${summary.status_detail}` : ""),
      figure(
        "Intercom workspace",
        `${summary.intercom.name ?? "—"} (${summary.intercom.app_id ?? "no app"}, ${summary.intercom.region})`,
      ),
      figure("Source / destination", `${onOff(summary.source_enabled)} / ${onOff(summary.destination_enabled)}`),
      figure("Last webhook", when(summary.activity.last_webhook_at)),
      figure("Last capture", latestText(summary.activity.last_capture)),
      figure("Last successful sync", latestText(summary.activity.last_sync)),
      figure("Last failure", latestText(summary.activity.last_failure)),
      figure(
        "Parked (waiting for a reconnect)",
        `${summary.parked.users} user(s), ${summary.parked.accounts} account(s)`,
      ),
      figure("Rate budget", ...budgetValue),
      figure(
        "Reconciliation sweep",
        summary.sweep.lag_seconds === null
          ? "not run yet"
          : `${Math.round(summary.sweep.lag_seconds / 60)} min behind (swept until ${when(summary.sweep.swept_until)})`,
      ),
    );
    const capped = new Set(summary.counts.capped_outcomes);
    const count = (/** @type {number} */ n, /** @type {string} */ outcome) =>
      capped.has(outcome) ? `≥ ${n.toLocaleString()}` : n.toLocaleString();
    byId("counts-body").replaceChildren(
      ...summary.counts.items.map((/** @type {any} */ item) =>
        h(
          "tr",
          {},
          h("td", {}, item.direction),
          h("td", {}, item.outcome),
          h("td", {}, count(item.last_hour, item.outcome)),
          h("td", {}, count(item.last_24h, item.outcome)),
        ),
      ),
    );
    const rows = summary.counts.log_rows;
    const dropped = rows?.dropped_last_24h
      ? ` ${rows.dropped_last_24h.toLocaleString()} log rows dropped in 24 h past the daily cap of ${rows.per_day.toLocaleString()} (counted, not kept; wrangler tail has them).`
      : "";
    byId("counts-note").textContent =
      (summary.counts.items.length
        ? `At most ${summary.counts.cap.toLocaleString()} rows are counted per outcome; "≥" marks a count at that cap. No-ops, duplicates and ignored notifications are counted, not listed in the Log.`
        : "Nothing logged in the last 24 hours.") + dropped;
    showJobs(summary.jobs);
    const letters = summary.dead_letters;
    byId("dead-letters-line").textContent =
      `${letters.pending} waiting for a replay, ${letters.total}${letters.capped ? "+" : ""} in all` +
      (letters.latest_at ? `; the newest ${when(letters.latest_at)}.` : ".");
    /** @type {HTMLButtonElement} */ (byId("replay")).disabled = letters.pending === 0;
    if (letters.total > 0) loadDeadLetters();
    else byId("dead-letters-list").replaceChildren();
  }

  /** Progress bars of the running resync and import, when the API reports them. */
  function showJobs(/** @type {any} */ jobs) {
    const bars = [];
    for (const [kind, job] of Object.entries(jobs ?? {})) {
      if (!job) continue;
      const label = `${kind === "import" ? "Import" : "Resync"}${job.phase ? ` (${job.phase})` : ""}: ${job.status}, ${job.done}${job.total === null ? "" : ` of ${job.total}`}`;
      bars.push(
        h(
          "div",
          { class: "job" },
          h("p", { id: `job-${kind}-label` }, label),
          h("progress", {
            "aria-labelledby": `job-${kind}-label`,
            max: job.total ?? undefined,
            value: job.total === null ? undefined : job.done,
          }),
        ),
      );
    }
    byId("jobs").replaceChildren(...bars);
    byId("resync-cancel").hidden = jobs?.resync?.status !== "running";
  }

  async function loadDeadLetters() {
    try {
      const page = await api("GET", `${connectionPath(connectionId)}/dead-letters?limit=10`);
      byId("dead-letters-list").replaceChildren(
        ...page.items.map((/** @type {any} */ letter) =>
          h(
            "li",
            {},
            `${when(letter.created_at)} · ${letter.queue} · ${JSON.stringify(letter.body).slice(0, 160)} · `,
            letter.replayed_at ? `replayed ${when(letter.replayed_at)}` : "not replayed",
          ),
        ),
      );
    } catch (error) {
      showProblem(error, byId("summary-error"));
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Start

  function start() {
    byId("sign-in").hidden = true;
    byId("app").hidden = false;
    byId("sign-out").hidden = false;
    const pending = sessionStorage.getItem(FLASH_KEY);
    if (pending) {
      sessionStorage.removeItem(FLASH_KEY);
      flash(pending);
    }
    const run = document.body.dataset.page === "connection" ? initConnection : initConnections;
    run().catch((error) => flash(errorText(error), true));
  }

  function boot() {
    byId("sign-in-form").addEventListener("submit", onSignIn);
    byId("sign-out").addEventListener("click", () => signOut("Signed out."));
    // Back from Intercom's consent screen (OAUTH_RETURN_URL pointing at /console).
    const params = new URLSearchParams(location.search);
    const connected = params.get("connection_id");
    const failed = params.get("error");
    if (connected || failed) history.replaceState(null, "", location.pathname);
    if (failed) flash(`Connecting Intercom failed: ${params.get("error_description") ?? failed}`, true);
    if (!token()) {
      byId("sign-in").hidden = false;
      return;
    }
    if (connected) {
      flashAfterNavigation("Connected with Intercom.");
      location.replace(`/console/connections/${encodeURIComponent(connected)}`);
      return;
    }
    start();
  }

  boot();
})();
