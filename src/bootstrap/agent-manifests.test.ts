import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { withAgentSettings } from "./agent-manifests.js";

const DEPLOYMENT = new URL("../../../deploy/kubernetes/deployment.yaml", import.meta.url);

describe("withAgentSettings", () => {
  test("sets repo, ref, path and image of the shipped Deployment and keeps its comments and other flags", async () => {
    const content = await readFile(DEPLOYMENT, "utf8");
    const [out] = withAgentSettings([{ name: "deployment.yaml", content }], { repo: "https://git.acme.test/ops.git", ref: "prod", path: "clusters/eu", image: "ghcr.io/acme/ferry:9.9.9" });
    assert.ok(out);
    const doc = parse(out.content) as { spec: { template: { spec: { containers: { name: string; image: string; args: string[] }[] } } } };
    const agent = doc.spec.template.spec.containers.find((c) => c.name === "agent");
    assert.ok(agent);
    assert.equal(agent.image, "ghcr.io/acme/ferry:9.9.9");
    assert.deepEqual(agent.args.filter((a) => /^--(repo|ref|path)=/.test(a)), ["--repo=https://git.acme.test/ops.git", "--ref=prod", "--path=clusters/eu"]);
    assert.ok(agent.args.includes("--root=/var/lib/ferry/live"), "other flags stay");
    assert.match(out.content, /Recreate, not RollingUpdate/, "comments stay");
  });

  test("leaves the image alone when none is given, and other files untouched", async () => {
    const content = await readFile(DEPLOYMENT, "utf8");
    const other = { name: "service.yaml", content: "kind: Service\n" };
    const out = withAgentSettings([other, { name: "deployment.yaml", content }], { repo: "r", ref: "main", path: "ferry" });
    assert.equal(out[0], other);
    assert.match(out[1]?.content ?? "", /image: ferry:0\.1\.0/);
  });

  test("names what is missing when no file holds the agent's Deployment", () => {
    assert.throws(() => withAgentSettings([{ name: "a.yaml", content: "kind: ConfigMap\n" }], { repo: "r", ref: "main", path: "ferry" }), /Deployment ferry-system\/ferry/);
  });
});
