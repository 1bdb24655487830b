/**
 * The console's two views as server-rendered markup: the connections list (with the two ways to connect) and one
 * connection (tabs: Connection, Source, Destination, Log, Summary). Lists and values are filled by the script;
 * what the server knows without the admin's token (default mappings, attribute names, outcomes) is rendered here.
 */
import { MAPPING_TYPES, REGIONS } from "../../connections/settings";
import { COMPANY_DEFAULTS, CONTACT_DEFAULTS } from "../../destination/plan/payload";
import { STANDARD_COMPANY_ATTRIBUTES, STANDARD_CONTACT_ATTRIBUTES } from "../../intercom/attributes";
import { OUTCOMES } from "../admin/logs";

export function ConnectionsPage() {
  return (
    <>
      <h1>Connections</h1>
      <table id="connections-table" class="data">
        <caption class="sr-only">Connections of this workspace</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Status</th>
            <th scope="col">Intercom workspace</th>
            <th scope="col">Source</th>
            <th scope="col">Destination</th>
          </tr>
        </thead>
        <tbody id="connections-body" />
      </table>
      <p id="connections-empty" hidden>
        No connection yet: connect an Intercom workspace below.
      </p>
      <h2>Connect Intercom</h2>
      <div class="cards">
        <form id="oauth-form" class="card" method="post" aria-labelledby="oauth-title">
          <h3 id="oauth-title">With Intercom (OAuth)</h3>
          <p class="hint">Sends you to Intercom to pick a workspace and grant access, then back here.</p>
          <label for="oauth-name">Name (optional)</label>
          <input id="oauth-name" name="name" maxlength={100} autocomplete="off" />
          <p id="oauth-form-error" class="field-error" role="alert" />
          <button type="submit">Connect with Intercom</button>
        </form>
        <form id="token-form" class="card" method="post" aria-labelledby="token-title">
          <h3 id="token-title">With an access token</h3>
          <label for="token-name">Name</label>
          <input id="token-name" name="name" maxlength={100} required autocomplete="off" />
          <p id="token-name-error" class="field-error" />
          <label for="access-token">Access token</label>
          <input id="access-token" name="access_token" type="password" required autocomplete="off" />
          <p id="access-token-error" class="field-error" />
          <label for="token-region">Region</label>
          <select id="token-region" name="region">
            <option value="">Find it (US, EU, AU)</option>
            {REGIONS.map((region) => (
              <option value={region}>{region}</option>
            ))}
          </select>
          <p id="token-form-error" class="field-error" role="alert" />
          <button type="submit">Connect</button>
        </form>
      </div>
    </>
  );
}

const TABS = [
  ["connection", "Connection"],
  ["source", "Source"],
  ["destination", "Destination"],
  ["log", "Log"],
  ["summary", "Summary"],
] as const;

const SOURCE_FLAGS = [
  [
    "capture_chat_events",
    "Capture chat events",
    "A contact starting a conversation: Chat started, Chat button clicked.",
  ],
  ["capture_user_events", "Capture user events", "Intercom data events become CDP events with their metadata."],
  ["create_users_from_contacts", "Create users from contacts", "Contacts (users and leads) become CDP users."],
  ["create_accounts_from_companies", "Create accounts from companies", "Companies become CDP accounts."],
  ["capture_relationships", "Capture relationships", "Company memberships become user↔account links."],
  [
    "import_on_enable",
    "Import when the source is first on",
    "The first time the source is on, import what Intercom already holds (contacts, companies, memberships).",
  ],
] as const;

export function ConnectionPage() {
  return (
    <>
      <p>
        <a href="/console">← All connections</a>
      </p>
      <h1 id="connection-title">Connection</h1>
      <p id="connection-status" class="status-line" />
      <div class="tabs" role="tablist" aria-label="Connection sections">
        {TABS.map(([id, label], index) => (
          <button
            type="button"
            role="tab"
            id={`tab-${id}`}
            aria-controls={`panel-${id}`}
            aria-selected={index === 0 ? "true" : "false"}
            tabindex={index === 0 ? 0 : -1}
          >
            {label}
          </button>
        ))}
      </div>
      <ConnectionPanel />
      <SourcePanel />
      <DestinationPanel />
      <LogPanel />
      <SummaryPanel />
    </>
  );
}

function Panel(props: { id: string; children: unknown }) {
  return (
    <section role="tabpanel" id={`panel-${props.id}`} aria-labelledby={`tab-${props.id}`} tabindex={0} hidden>
      {props.children}
    </section>
  );
}

function ConnectionPanel() {
  return (
    <Panel id="connection">
      <form id="connection-form" class="card" method="post">
        <label for="name">Name</label>
        <input id="name" name="name" maxlength={100} required autocomplete="off" />
        <p id="name-error" class="field-error" />
        <div class="check">
          <input type="checkbox" id="source-enabled" name="source.enabled" />
          <label for="source-enabled">Source on (Intercom → CDP)</label>
        </div>
        <div class="check">
          <input type="checkbox" id="destination-enabled" name="destination.enabled" />
          <label for="destination-enabled">Destination on (CDP → Intercom)</label>
        </div>
        <p id="connection-form-error" class="field-error" role="alert" />
        <div class="actions">
          <button type="submit">Save</button>
          <button type="button" id="test-connection" class="secondary">
            Test the token
          </button>
        </div>
        <p id="test-result" role="status" />
      </form>
    </Panel>
  );
}

function SourcePanel() {
  return (
    <Panel id="source">
      <form id="source-form" class="card" method="post">
        <fieldset>
          <legend>What to capture from Intercom</legend>
          {SOURCE_FLAGS.map(([key, label, hint]) => (
            <div class="check">
              <input
                type="checkbox"
                id={`source-${key}`}
                name={`source.${key}`}
                aria-describedby={`source-${key}-hint`}
              />
              <label for={`source-${key}`}>{label}</label>
              <p id={`source-${key}-hint`} class="hint">
                {hint}
              </p>
            </div>
          ))}
        </fieldset>
        <label for="on-contact-deleted">When a contact is deleted in Intercom</label>
        <select id="on-contact-deleted" name="source.on_contact_deleted" aria-describedby="on-contact-deleted-hint">
          <option value="unlink">Unlink: the CDP user stays</option>
          <option value="erase">Erase the CDP person</option>
        </select>
        <p id="on-contact-deleted-hint" class="hint">
          Erase removes the person from the connector everywhere, as an erasure request does.
        </p>
        <p id="source-form-error" class="field-error" role="alert" />
        <button type="submit">Save</button>
      </form>
    </Panel>
  );
}

function DefaultMappings(props: { model: string; rows: ReadonlyArray<{ from: string; to: string; type: string }> }) {
  return (
    <table class="data compact">
      <caption>Default {props.model} mapping (always applied; a custom mapping to the same target wins)</caption>
      <thead>
        <tr>
          <th scope="col">CDP property</th>
          <th scope="col">Intercom attribute</th>
          <th scope="col">Type</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((row) => (
          <tr>
            <td>
              <code>{row.from}</code>
            </td>
            <td>
              <code>{row.to}</code>
            </td>
            <td>{row.type}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function MappingEditor(props: { model: "contact" | "company" }) {
  const { model } = props;
  return (
    <fieldset class="mappings" id={`mappings-${model}`} data-model={model}>
      <legend>Custom {model} mappings</legend>
      <table class="data compact">
        <thead>
          <tr>
            <th scope="col">CDP property</th>
            <th scope="col">Intercom attribute</th>
            <th scope="col">Type</th>
            <th scope="col">
              <span class="sr-only">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody id={`mappings-${model}-rows`} />
      </table>
      <p id={`mappings-${model}-error`} class="field-error" />
      <button type="button" class="secondary add-mapping" data-model={model}>
        Add a {model} mapping
      </button>
    </fieldset>
  );
}

function DestinationPanel() {
  return (
    <Panel id="destination">
      <form id="destination-form" class="card" method="post">
        <label for="segments">Segments</label>
        <input id="segments" name="destination.segments" autocomplete="off" aria-describedby="segments-hint" />
        <p id="segments-hint" class="hint">
          Comma-separated CDP segments. Empty: every user syncs; otherwise users in at least one of them.
        </p>
        <p id="segments-error" class="field-error" />
        <div class="check">
          <input
            type="checkbox"
            id="allow-create"
            name="destination.allow_create"
            aria-describedby="allow-create-hint"
          />
          <label for="allow-create">Create contacts and companies that Intercom lacks</label>
          <p id="allow-create-hint" class="hint">
            Off: only what already exists in Intercom is updated.
          </p>
        </div>
        <div class="check">
          <input
            type="checkbox"
            id="clear-removed"
            name="destination.clear_removed"
            aria-describedby="clear-removed-hint"
          />
          <label for="clear-removed">Clear removed properties</label>
          <p id="clear-removed-hint" class="hint">
            A mapped CDP property set to null clears the Intercom attribute; off, the old value stays.
          </p>
        </div>
        <p id="clear-removed-error" class="field-error" />
        <label for="on-erase">When a person is erased</label>
        <select id="on-erase" name="destination.on_erase" aria-describedby="on-erase-hint">
          <option value="none">Leave the Intercom contact</option>
          <option value="archive">Archive the Intercom contact</option>
          <option value="delete">Delete the Intercom contact</option>
        </select>
        <p id="on-erase-hint" class="hint">
          What an erasure does to the linked Intercom contact, after that contact's pending work.
        </p>
        <DefaultMappings model="contact" rows={CONTACT_DEFAULTS} />
        <DefaultMappings model="company" rows={COMPANY_DEFAULTS} />
        <MappingEditor model="contact" />
        <MappingEditor model="company" />
        <template id="mapping-row">
          <tr>
            <td>
              <input data-field="from" data-label="CDP property" maxlength={200} autocomplete="off" />
              <p class="field-error" data-error="from" />
            </td>
            <td>
              <input
                data-field="to"
                data-label="Intercom attribute"
                maxlength={250}
                autocomplete="off"
                placeholder="custom_attributes.health"
              />
              <p class="field-error" data-error="to" />
            </td>
            <td>
              <select data-field="type" data-label="type">
                <option value="">(the attribute's)</option>
                {MAPPING_TYPES.map((type) => (
                  <option value={type}>{type}</option>
                ))}
              </select>
              <p class="field-error" data-error="type" />
            </td>
            <td>
              <button type="button" class="secondary remove-mapping">
                Remove
              </button>
            </td>
          </tr>
        </template>
        <datalist id="targets-contact">
          {Object.keys(STANDARD_CONTACT_ATTRIBUTES).map((name) => (
            <option value={name} />
          ))}
        </datalist>
        <datalist id="targets-company">
          {Object.keys(STANDARD_COMPANY_ATTRIBUTES).map((name) => (
            <option value={name} />
          ))}
        </datalist>
        <p id="destination-form-error" class="field-error" role="alert" />
        <button type="submit">Save</button>
      </form>
      <form id="preview-form" class="card" method="post" aria-labelledby="preview-title">
        <h2 id="preview-title">Preview one user</h2>
        <p class="hint">What a sync of this user would send to Intercom now. Nothing is sent.</p>
        <label for="preview-user">CDP user id</label>
        <input id="preview-user" name="user_id" required autocomplete="off" />
        <p id="preview-form-error" class="field-error" role="alert" />
        <button type="submit">Preview</button>
        <pre id="preview-output" class="output" hidden />
      </form>
    </Panel>
  );
}

function LogPanel() {
  return (
    <Panel id="log">
      <form id="log-filters" class="filters" method="post" aria-label="Log filters">
        <div>
          <label for="log-direction">Direction</label>
          <select id="log-direction" name="direction">
            <option value="">Both</option>
            <option value="in">In (Intercom → CDP)</option>
            <option value="out">Out (CDP → Intercom)</option>
          </select>
        </div>
        <div>
          <label for="log-outcome">Outcome</label>
          <select id="log-outcome" name="outcome">
            <option value="">Any</option>
            {OUTCOMES.map((outcome) => (
              <option value={outcome}>{outcome}</option>
            ))}
          </select>
        </div>
        <div>
          <label for="log-object">Object</label>
          <select id="log-object" name="object_type">
            <option value="">Any</option>
            {[
              "user",
              "account",
              "contact",
              "company",
              "event",
              "membership",
              "action",
              "notification",
              "connection",
            ].map((type) => (
              <option value={type}>{type}</option>
            ))}
          </select>
        </div>
        <div>
          <label for="log-q">Email or id</label>
          <input id="log-q" name="q" type="search" autocomplete="off" />
        </div>
        <div class="check">
          <input type="checkbox" id="log-auto" name="auto" />
          <label for="log-auto">Auto-refresh (5 s)</label>
        </div>
        <button type="submit">Search</button>
      </form>
      <p id="log-error" class="field-error" role="alert" />
      <table class="data" id="log-table">
        <caption class="sr-only">Sync log, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Direction</th>
            <th scope="col">Outcome</th>
            <th scope="col">Object</th>
            <th scope="col">Id / email</th>
            <th scope="col">Action</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody id="log-body" />
      </table>
      <p id="log-empty" hidden>
        No log rows match.
      </p>
      <div class="actions">
        <button type="button" id="log-newest" class="secondary">
          Newest
        </button>
        <button type="button" id="log-older" class="secondary" disabled>
          Older
        </button>
      </div>
    </Panel>
  );
}

/**
 * Start an import, with its optional parts (off, as in the API). Hidden until `GET …/imports` answers, so a console
 * ahead of its deploy offers no import. It sits above the figures the Summary redraws every 5 s, so that it does not
 * move under the pointer.
 */
function ImportForm() {
  return (
    <form id="import-form" class="card job-form" method="post" aria-labelledby="import-title" hidden>
      <h2 id="import-title">Import from Intercom</h2>
      <p class="hint">Companies, contacts and their memberships, one Intercom page at a time in the bulk lane.</p>
      <fieldset>
        <legend>Also import</legend>
        <div class="check">
          <input type="checkbox" id="import-tags" name="include_tags" aria-describedby="import-tags-hint" />
          <label for="import-tags">Tags</label>
          <p id="import-tags-hint" class="hint">
            Each contact's tag names as the user property <code>intercom_tags</code>.
          </p>
        </div>
        <div class="check">
          <input
            type="checkbox"
            id="import-conversations"
            name="include_conversations"
            aria-describedby="import-conversations-hint"
          />
          <label for="import-conversations">Past conversations</label>
          <p id="import-conversations-hint" class="hint">
            Conversations a contact started become Chat started and Chat button clicked events at their time (needs
            Capture chat events).
          </p>
        </div>
        <div class="since">
          <label for="import-conversations-since">Conversations started since</label>
          <input
            type="date"
            id="import-conversations-since"
            name="conversations_since"
            aria-describedby="import-conversations-since-hint"
            disabled
          />
          <p id="import-conversations-since-hint" class="hint">
            From midnight of that day, your time; empty: the last 90 days.
          </p>
          <p id="import-conversations-since-error" class="field-error" />
        </div>
        <div class="check">
          <input type="checkbox" id="import-events" name="include_events" aria-describedby="import-events-hint" />
          <label for="import-events">Past data events (one Intercom call per contact)</label>
          <p id="import-events-hint" class="hint">
            The data events Intercom still lists (the last 90 days) of each user contact (needs Capture user events).
            The cost is stated when the import starts.
          </p>
        </div>
      </fieldset>
      <p id="import-form-error" class="field-error" role="alert" />
      <div class="actions">
        <button type="submit" id="import">
          Import from Intercom
        </button>
        <span id="import-message" role="status" />
      </div>
    </form>
  );
}

function SummaryPanel() {
  return (
    <Panel id="summary">
      <div class="actions">
        <button type="button" id="resync">
          Resync
        </button>
        <button type="button" id="resync-cancel" class="secondary" hidden>
          Cancel resync
        </button>
        <span id="jobs-message" role="status" />
      </div>
      <div id="jobs" />
      <ImportForm />
      <dl id="summary-figures" class="figures" />
      <h2>Last hour and last 24 hours</h2>
      <table class="data compact" id="counts-table">
        <thead>
          <tr>
            <th scope="col">Direction</th>
            <th scope="col">Outcome</th>
            <th scope="col">Last hour</th>
            <th scope="col">Last 24 h</th>
          </tr>
        </thead>
        <tbody id="counts-body" />
      </table>
      <p id="counts-note" class="hint" />
      <h2>Dead letters</h2>
      <p id="dead-letters-line" />
      <ul id="dead-letters-list" class="plain" />
      <button type="button" id="replay" class="secondary" disabled>
        Replay dead letters
      </button>
      <p id="summary-error" class="field-error" role="alert" />
    </Panel>
  );
}
