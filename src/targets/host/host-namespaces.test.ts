import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { FerryError } from "../../core/errors.js";
import { resourceKey } from "../../core/ids.js";
import type { JsonObject } from "../../core/json.js";
import type { RenderedObject } from "../../core/objects.js";
import type { HostTarget } from "./host-target.js";
import { createSandbox, hostObject, pidAlive, waitFor } from "../../../test/support/host-test-support.js";
import { HOST_API_VERSION } from "./host-schemas.js";
import { freePort } from "../../../test/support/free-port.js";

/** Writes where it runs and which environment it is, then stays up. */
const SERVICE = `require("fs").writeFileSync("here.txt", process.env.ENV_NAME); console.log("up in " + process.env.ENV_NAME); setInterval(() => {}, 1000);`;

/** An object of one environment, in the namespace its application gives it (as the engine's prepare stage does). */
function inNamespace(target: HostTarget, object: RenderedObject, namespace: string | undefined): RenderedObject {
  const [prepared] = target.prepare?.([object], namespace === undefined ? {} : { namespace }) ?? [];
  assert.ok(prepared, "the host target puts objects into namespaces");
  return prepared;
}

function web(env: string): RenderedObject {
  const spec: JsonObject = { command: process.execPath, args: ["-e", SERVICE], env: { ENV_NAME: env }, stop: { gracePeriodSeconds: 5 } };
  return hostObject("Service", "web", spec);
}

const key = (kind: string, namespace: string, name: string) => resourceKey(HOST_API_VERSION, kind, name, namespace);

test("Service/web of dev and prd run side by side: their own process, record, log and working directory", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const dev = inNamespace(target, web("dev"), "dev");
  const prd = inNamespace(target, web("prd"), "prd");
  const plain = inNamespace(target, web("default"), undefined);
  assert.deepEqual([dev.key, prd.key, plain.key], [key("Service", "dev", "web"), key("Service", "prd", "web"), key("Service", "", "web")]);

  assert.equal(await target.apply(dev, { ...sandbox.context, application: "web-dev" }), "created");
  assert.equal(await target.apply(prd, { ...sandbox.context, application: "web-prd" }), "created");
  assert.equal(await target.apply(plain, { ...sandbox.context, application: "web" }), "created");

  // Each in its namespace's directory under the root (the default namespace in the root itself).
  for (const [dir, env] of [["dev", "dev"], ["prd", "prd"], [".", "default"]] as const) {
    const here = path.join(sandbox.root, dir, "here.txt");
    assert.equal(await waitFor(`${env} to write ${here}`, () => readFile(here, "utf8").catch(() => undefined)), env);
  }
  const live = await target.read([dev.key, prd.key, plain.key]);
  assert.deepEqual([...live.values()].map((o) => o.owner), ["web-dev", "web-prd", "web"]);
  const health = await target.health([dev.key, prd.key]);
  assert.deepEqual([...health.values()].map((h) => h.status), ["Healthy", "Healthy"]);

  // Records and logs per namespace; the default namespace's stay where they always were.
  const record = async (...parts: string[]) => JSON.parse(await readFile(path.join(sandbox.stateDir, "records", "service", ...parts), "utf8")) as { owner: string; pid: number };
  const [devRecord, prdRecord, plainRecord] = [await record("dev", "web.json"), await record("prd", "web.json"), await record("web.json")];
  assert.deepEqual([devRecord.owner, prdRecord.owner, plainRecord.owner], ["web-dev", "web-prd", "web"]);
  assert.equal(new Set([devRecord.pid, prdRecord.pid, plainRecord.pid]).size, 3, "three processes");
  const log = (...parts: string[]) => readFile(path.join(sandbox.stateDir, "logs", ...parts), "utf8").catch(() => "");
  await waitFor("each log to hold its own output", async () => (await log("dev", "web.log")).includes("up in dev") && (await log("prd", "web.log")).includes("up in prd") && (await log("web.log")).includes("up in default"));
  assert.doesNotMatch(await log("prd", "web.log"), /up in dev/);

  // The same name in another namespace is not someone else's object: no owner conflict, and deleting one leaves the other.
  await target.delete(dev.key, { application: "web-dev" });
  assert.equal(pidAlive(devRecord.pid), false);
  assert.equal(pidAlive(prdRecord.pid), true);
  assert.equal(await stat(path.join(sandbox.stateDir, "records", "service", "dev", "web.json")).catch(() => undefined), undefined);

  // A later agent adopts every namespace's services, and the records from before namespaces as the default namespace's.
  await target.close();
  const next = sandbox.target();
  const adopted = await next.read([dev.key, prd.key, plain.key]);
  assert.deepEqual([...adopted.keys()], [prd.key, plain.key]);
  assert.equal(await next.apply(prd, { ...sandbox.context, application: "web-prd" }), "unchanged");
  assert.equal(await next.apply(plain, { ...sandbox.context, application: "web" }), "unchanged");
});

test("two Files that write one path are refused, in whichever namespace, unless one application renamed its own", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const file = (name: string, content: string, namespace: string) => inNamespace(target, hostObject("File", name, { path: "web/config.json", content }), namespace);
  await target.apply(file("config", "dev", "dev"), { ...sandbox.context, application: "web-dev" });
  const refused = await target.apply(file("settings", "prd", "prd"), { ...sandbox.context, application: "web-prd" }).then(
    () => undefined,
    (error: unknown) => error,
  );
  assert.ok(refused instanceof FerryError, "a second owner of one path is refused");
  assert.equal(refused.reason, "PathOwnedByAnotherFile");
  assert.match(refused.message, /deploy\/app\.yaml:6:11: spec\.path: path .*web\/config\.json is already written by file dev\/config of application "web-dev": one path can have one owner/);
  assert.equal(await readFile(path.join(sandbox.root, "web", "config.json"), "utf8"), "dev", "the first owner's content stays");

  // Renamed within its application (an overlay's new namePrefix): the new object takes the path, and pruning the old one leaves the file.
  const renamed = file("dev-config", "dev, renamed", "dev");
  assert.equal(await target.apply(renamed, { ...sandbox.context, application: "web-dev" }), "configured");
  await target.delete(key("File", "dev", "config"), { application: "web-dev" });
  assert.equal(await readFile(path.join(sandbox.root, "web", "config.json"), "utf8"), "dev, renamed");
  assert.deepEqual([...(await target.health([renamed.key])).values()].map((h) => h.status), ["Healthy"]);
});

test("an application that moves into a namespace: its service restarts there on its port, and a job that ran is not run again", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const port = await freePort();
  const server = `require("http").createServer((q, s) => s.end("pid " + process.pid)).listen(${port}, "127.0.0.1");`;
  const service = hostObject("Service", "web", { command: process.execPath, args: ["-e", server], healthCheck: { tcp: { port } } });
  // With its working directory written out: one in its namespace's directory would be a change, and run again.
  const job = hostObject("Job", "migrate", { command: process.execPath, workingDir: ".", args: ["-e", `require("fs").appendFileSync(${JSON.stringify(path.join(sandbox.base, "runs"))}, "run\\n")`] });
  const context = { ...sandbox.context, application: "web" };
  for (const object of [job, service]) await target.apply(inNamespace(target, object, undefined), context);
  const before = await waitFor("the service in the default namespace to answer", () => answer(port));

  // The Application gets spec.namespace: dev.
  assert.equal(await target.apply(inNamespace(target, job, "dev"), context), "unchanged");
  assert.equal(await target.apply(inNamespace(target, service, "dev"), context), "created");
  const after = await waitFor("the service in dev to answer on the same port", async () => {
    const text = await answer(port);
    return text !== undefined && text !== before && text;
  });
  assert.notEqual(after, before);
  assert.equal(await readFile(path.join(sandbox.base, "runs"), "utf8"), "run\n", "the job ran once");
  // The prune of the old keys leaves the moved objects alone.
  await target.delete(key("Service", "", "web"), { application: "web" });
  await target.delete(key("Job", "", "migrate"), { application: "web" });
  assert.deepEqual([...(await target.read([key("Service", "dev", "web"), key("Job", "dev", "migrate")])).keys()], [key("Service", "dev", "web"), key("Job", "dev", "migrate")]);
  assert.equal(await answer(port), after);
});

async function answer(port: number): Promise<string | undefined> {
  try {
    return await (await fetch(`http://127.0.0.1:${port}/`)).text();
  } catch {
    return undefined;
  }
}
