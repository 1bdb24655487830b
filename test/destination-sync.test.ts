import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { identifyUser } from "../src/destination/ingest";
import { connectDestination, settle, waitFor } from "./helpers/destination";
import { countCalls, journalMark, useIntercomSim } from "./helpers/intercom-sim";

const sim = useIntercomSim();

describe("destination sync", () => {
  it("creates a new contact with at most 2 calls, then one effective change costs exactly 1 call", async () => {
    const { workspace } = await connectDestination(sim);
    await identifyUser(env, "ws_test", { user_id: "u-new", email: "New@Example.com", properties: { full_name: "New Person" } });
    await waitFor(() => sim.state(workspace.app_id).contacts.length === 1, 10_000, "contact created");
    await settle(300);
    expect(countCalls(sim)).toBeLessThanOrEqual(2);
    const contact = sim.state(workspace.app_id).contacts[0]!;
    expect(contact).toMatchObject({ external_id: "u-new", email: "new@example.com", name: "New Person", role: "user" });

    const mark = journalMark(sim);
    await identifyUser(env, "ws_test", { user_id: "u-new", properties: { phone: "+1 555" } });
    await waitFor(() => sim.state(workspace.app_id).contacts[0]!.phone === "+1 555", 10_000, "phone synced");
    await settle(300);
    expect(countCalls(sim, { since: mark })).toBe(1);
  });
});
