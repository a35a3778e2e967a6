// Signed commits: an agent started with --verify-signatures uses only commits
// signed by an allowed key; anything else is refused and reported while the
// last good revision keeps running, and the next signed commit recovers.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { ConfigStatus } from "../../src/agent/agent.js";
import { createSshKey, writeAllowedSigners } from "../support/test-signing.js";
import { applicationsYaml, parseAnswer, serviceApp } from "./fixtures.js";
import { condition, freePort, httpGet, outputOf, Scenario } from "./harness.js";

describe("ferry agent --verify-signatures", { concurrency: true }, () => {
  test("a refused revision stalls with the reason while the signed one keeps running and self-healing; the next signed commit recovers", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const trusted = await createSshKey(s.dir, "trusted");
    const stranger = await createSshKey(s.dir, "stranger");
    const allowedSigners = await writeAllowedSigners(join(s.dir, "allowed_signers"), [trusted]);
    const sign = trusted.signing.config;
    const port = await freePort();

    const good = await s.commit("Add web", { "ferry/applications.yaml": applicationsYaml({ name: "web" }), ...serviceApp({ name: "web", port, greeting: "Signed" }) }, sign);
    s.startAgent({ extra: ["--verify-signatures", "--allowed-signers", allowedSigners] });
    await s.waitForReady("web", good);
    const serving = parseAnswer(await s.waitForHttp(port, (b) => b.startsWith("greeting=Signed "), "the signed version"));

    const unsigned = await s.commit("Unsigned change", serviceApp({ name: "web", port, greeting: "Unsigned" }));
    const stalled = await s.waitForStatus("web", "Stalled on the unsigned commit", (st) => st.lastAttemptedRevision === unsigned && condition(st, "Stalled")?.status === "True");
    assert.equal(condition(stalled, "Stalled")?.reason, "SignatureRefused");
    assert.equal(condition(stalled, "Ready")?.status, "False");
    assert.equal(condition(stalled, "Ready")?.message, `revision ${unsigned.slice(0, 8)} refused: unsigned`);
    assert.equal(stalled.sync.revision, good, "the synced revision stays the signed one");
    const text = await s.ferry("status", "web");
    assert.equal(text.code, 1, outputOf(text));
    assert.match(text.stdout, /Stalled=True SignatureRefused/);

    // The configuration lives in the same repository: it is rejected too, and the signed one stays in use.
    const config = await s.waitFor("the configuration to be rejected", async () => {
      const json = JSON.parse((await s.ferry("status", "-o", "json")).stdout) as { config?: ConfigStatus };
      return json.config?.lastAttemptedRevision === unsigned ? json.config : undefined;
    });
    assert.equal(config.revision, good);
    assert.deepEqual(config.problems.map((p) => p.message), [`revision ${unsigned.slice(0, 8)} refused: unsigned`]);
    await s.waitFor("the agent to log the refusal", () => s.agent.output.includes(`revision ${unsigned.slice(0, 8)} refused: unsigned`));

    assert.deepEqual(parseAnswer((await httpGet(port)) ?? "no answer\n"), serving, "the signed version keeps serving, untouched");
    // Self-heal still works against the signed revision.
    const managed = join(s.root, "web", "config.json");
    await writeFile(managed, '{ "greeting": "edited by hand" }\n');
    await s.waitFor("the edited file to be put back", async () => (await readFile(managed, "utf8")).includes('"Signed"'));
    const afterHeal = await s.status("web");
    assert.equal(condition(afterHeal, "Stalled")?.reason, "SignatureRefused", "healing does not hide the refusal");

    const foreign = await s.commit("Signed by a stranger", serviceApp({ name: "web", port, greeting: "Stranger" }), stranger.signing.config);
    const refused = await s.waitForStatus("web", "Stalled on the stranger's commit", (st) => st.lastAttemptedRevision === foreign);
    assert.match(condition(refused, "Stalled")?.message ?? "", new RegExp(`^revision ${foreign.slice(0, 8)} refused: signed by a key not in the allowed signers \\(SSH key SHA256:`));

    const next = await s.commit("Signed change", serviceApp({ name: "web", port, greeting: "Signed again" }), sign);
    const recovered = await s.waitForReady("web", next);
    assert.equal(condition(recovered, "Stalled"), undefined);
    await s.waitForHttp(port, (b) => b.startsWith("greeting=Signed again "), "the next signed commit");
    const json = JSON.parse((await s.ferry("status", "-o", "json")).stdout) as { config?: ConfigStatus };
    assert.equal(json.config?.revision, next);
    assert.deepEqual(json.config?.problems, []);

    // Without a key to sign with, ferry rollback refuses rather than push a commit this agent would refuse.
    const rollback = await s.ferry("rollback", "web");
    assert.equal(rollback.code, 2, outputOf(rollback));
    assert.match(rollback.stderr, /verifies commit signatures and has no key to sign the rollback commit with: start it with --sign-commits/);
    assert.equal(await s.head(), next, "nothing was committed");
  });

  test("with --sign-commits, ferry rollback signs its commit and the verifying agent applies it", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const trusted = await createSshKey(s.dir, "trusted");
    const allowedSigners = await writeAllowedSigners(join(s.dir, "allowed_signers"), [trusted]);
    const sign = trusted.signing.config;
    const port = await freePort();
    const first = await s.commit("Add web", { "ferry/applications.yaml": applicationsYaml({ name: "web" }), ...serviceApp({ name: "web", port, greeting: "One" }) }, sign);
    s.startAgent({ extra: ["--verify-signatures", "--allowed-signers", allowedSigners, "--sign-commits", trusted.privateKey] });
    await s.waitForReady("web", first);
    const second = await s.commit("Two", serviceApp({ name: "web", port, greeting: "Two" }), sign);
    await s.waitForReady("web", second);
    await s.waitForHttp(port, (b) => b.startsWith("greeting=Two "), "the second version");

    const rollback = await s.ferry("rollback", "web", "--reason", "two is broken");
    assert.equal(rollback.code, 0, outputOf(rollback));
    const commit = await s.head();
    assert.notEqual(commit, second, "the rollback commit is on main");
    const verified = await s.git("-c", `gpg.ssh.allowedSignersFile=${allowedSigners}`, "log", "-1", "--format=%G?", commit);
    assert.equal(verified.trim(), "G", "the rollback commit carries a good signature of the agent's key");
    const applied = await s.waitForReady("web", commit);
    assert.equal(condition(applied, "Stalled"), undefined, "the agent accepts its own signed commit");
    await s.waitForHttp(port, (b) => b.startsWith("greeting=One "), "the rolled-back version");
  });

  test("without a good signature at start, nothing is applied and the reason is reported", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const trusted = await createSshKey(s.dir, "trusted");
    const allowedSigners = await writeAllowedSigners(join(s.dir, "allowed_signers"), [trusted]);
    const port = await freePort();
    const unsigned = await s.commit("Add web", { "ferry/applications.yaml": applicationsYaml({ name: "web" }), ...serviceApp({ name: "web", port, greeting: "Unsigned" }) });
    const once = await s.ferry(...s.agentArgs({ once: true, extra: ["--verify-signatures", "--allowed-signers", allowedSigners] }).slice(2));
    assert.equal(once.code, 1, outputOf(once));
    assert.match(once.stdout, new RegExp(`configuration at ${unsigned.slice(0, 8)} was rejected; no configuration loaded:\\n  revision ${unsigned.slice(0, 8)} refused: unsigned`));
    assert.equal(await httpGet(port), undefined, "nothing was started");
  });

  test("the flags are checked before the agent starts", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const missing = await s.ferry(...s.agentArgs({ once: true, extra: ["--verify-signatures"] }).slice(2));
    assert.equal(missing.code, 2, outputOf(missing));
    assert.match(missing.stderr, /--verify-signatures needs the allowed keys: --allowed-signers <file> \(SSH\) and\/or --gpg-keyring <file> \(GPG\)/);
    const unreadable = await s.ferry(...s.agentArgs({ once: true, extra: ["--verify-signatures", "--allowed-signers", join(s.dir, "nope")] }).slice(2));
    assert.equal(unreadable.code, 2, outputOf(unreadable));
    assert.match(unreadable.stderr, /--allowed-signers: cannot read .*nope/);
  });
});
