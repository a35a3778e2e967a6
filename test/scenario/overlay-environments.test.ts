// Environments as folders over one base, on one host: dev, acc and prd are
// overlays of one base, each an Application in its own namespace. They run
// side by side (three processes on three ports, each serving its own
// environment's config) and a version is promoted through them.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { PipelineView } from "../../src/promote/pipeline-view.js";
import { freePort, httpGet, outputOf, Scenario } from "./harness.js";
import type { OverlayEnvironment } from "./overlay-fixtures.js";
import { OVERLAY_ENVIRONMENTS, overlayRepository } from "./overlay-fixtures.js";

test("dev, acc and prd overlays of one base run side by side on one host and a version is promoted through them", { timeout: 300_000 }, async (t) => {
  const s = await Scenario.create();
  t.after(() => s.cleanup());
  const ports = { dev: await freePort(), acc: await freePort(), prd: await freePort() } as Record<OverlayEnvironment, number>;
  await s.commit("web 1.0.0 in dev, acc and prd: overlays of one base", overlayRepository(ports, "1.0.0"));

  // The repository is valid: the same Service/web in three namespaces has three owners, not two of one.
  const validated = await s.ferry("validate", s.repo);
  assert.equal(validated.code, 0, outputOf(validated));

  s.startAgent({ interval: "500ms" });
  for (const env of OVERLAY_ENVIRONMENTS) await s.waitForReady(`web-${env}`);
  for (const env of OVERLAY_ENVIRONMENTS) assert.equal((await httpGet(ports[env]))?.trim(), `version=1.0.0 env=${env} greeting=hello from ${env}`);

  // Three processes, each with its own record and log, and the overlay's label on each object.
  const pids = new Set<number>();
  for (const env of OVERLAY_ENVIRONMENTS) {
    const record = JSON.parse(await readFile(join(s.state, "host", "records", "service", env, "web.json"), "utf8")) as { owner: string; pid: number };
    assert.equal(record.owner, `web-${env}`);
    pids.add(record.pid);
    const status = await s.status(`web-${env}`);
    assert.ok(
      status.inventory.some((e) => e.key === `host.ferry.dev/Service/${env}/web`),
      JSON.stringify(status.inventory),
    );
  }
  assert.equal(pids.size, 3);

  // A version is promoted dev -> acc -> prd: each step a commit into that environment's overlay only.
  const head = await s.head();
  const promoted = await s.ferry("promote", "web", "--to", "dev", "--version", "2.0.0");
  assert.equal(promoted.code, 0, outputOf(promoted));
  let view: PipelineView | undefined;
  await s.waitFor(
    "the promotion of 2.0.0 to succeed",
    async () => {
      const result = await s.ferry("pipeline", "status", "web", "-o", "json");
      view = JSON.parse(result.stdout) as PipelineView;
      return view.promotion?.version === "2.0.0" && view.promotion.outcome === "Succeeded";
    },
    () => JSON.stringify(view, null, 1),
    120_000,
  );
  for (const env of OVERLAY_ENVIRONMENTS) assert.equal((await httpGet(ports[env]))?.trim(), `version=2.0.0 env=${env} greeting=hello from ${env}`);
  assert.deepEqual(
    (await s.git("log", "--format=%s", `${head}..HEAD`)).trim().split("\n").reverse(),
    ["Promote web 2.0.0 into dev", "Promote web 2.0.0 from dev to acc", "Promote web 2.0.0 from acc to prd"],
  );
  assert.deepEqual((await s.git("diff", "--name-only", `${head}..HEAD`)).trim().split("\n"), OVERLAY_ENVIRONMENTS.map((env) => `apps/web/envs/${env}/web.yaml`).sort());

  // One path has one owner: prd writing dev's config is refused by validate and by the agent, and prd keeps serving.
  await s.commit("prd writes dev's config by mistake", {
    "apps/web/envs/prd/files.yaml": s.read("apps/web/envs/prd/files.yaml").replace("path: prd/config.json", "path: dev/config.json"),
  });
  const refused = await s.ferry("validate", s.repo);
  assert.equal(refused.code, 1, outputOf(refused));
  assert.match(outputOf(refused), /apps\/web\/envs\/prd\/files\.yaml:\d+:\d+: .*path "dev\/config\.json" is also written by File\/dev\/config \(at apps\/web\/envs\/dev\/files\.yaml:\d+:\d+\): one path can have one owner/);
  await s.waitForStatus("web-prd", "stalled on the shared path", (status) =>
    status.conditions.some((c) => c.type === "Stalled" && c.status === "True" && /one path can have one owner/.test(c.message)),
  );
  assert.equal((await httpGet(ports.dev))?.trim(), "version=2.0.0 env=dev greeting=hello from dev");
  assert.equal((await httpGet(ports.prd))?.trim(), "version=2.0.0 env=prd greeting=hello from prd");
});
