// A Helm chart in the repository, deployed by the agent to a cluster: rendered
// with `helm template` (the chart's values, the environment's values file and
// the Application's inline values), applied, and a new chart version applied.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { findExecutable } from "../../src/render/tools/find-tool.js";
import { getObject } from "../support/kube-test-support.js";
import { startKubeScenario } from "./kube-scenario.js";

// scripts/install-helm.mjs (run by `npm test`) puts helm in .tools/bin, first on the tests' PATH.
const helm = process.env["FERRY_HELM"] || (await findExecutable(["helm"]));
const noHelm = helm ? false : "helm is not installed (npm test installs it with scripts/install-helm.mjs; or set FERRY_HELM)";

const APPLICATION = `apiVersion: ferry.dev/v1
kind: Application
metadata:
  name: web
spec:
  source:
    path: charts/web
    helm:
      values: {team: blue}
  target: kubernetes
  namespace: shop
  environment: prd
`;

const files = (greeting: string): Record<string, string> => ({
  "ferry/applications.yaml": APPLICATION,
  "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
  "charts/web/values.yaml": `replicas: 1\ngreeting: ${greeting}\n`,
  "charts/web/values-prd.yaml": "replicas: 3\n",
  "charts/web/templates/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ .Release.Namespace }}\n",
  "charts/web/templates/config.yaml": [
    "apiVersion: v1",
    "kind: ConfigMap",
    "metadata:",
    "  name: {{ .Release.Name }}-config",
    "data:",
    "  greeting: {{ .Values.greeting | quote }}",
    "  team: {{ .Values.team | quote }}",
    "",
  ].join("\n"),
  "charts/web/templates/deployment.yaml": [
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata:",
    "  name: {{ .Release.Name }}",
    "spec:",
    "  replicas: {{ .Values.replicas }}",
    "  selector: {matchLabels: {app: web}}",
    "  template:",
    "    metadata: {labels: {app: web}}",
    "    spec:",
    "      containers: [{name: web, image: \"web:1\"}]",
    "",
  ].join("\n"),
});

describe("helm scenario", { skip: noHelm }, () => {
  test("a chart in the repository is rendered with its values, applied, and a new version of it applied", async (t) => {
    const { s, client, kube } = await startKubeScenario(t, { simulateControllers: true });
    const first = await s.commit("web as a chart", files("hello"));
    s.startAgent({ extra: kube });
    const status = await s.waitForReady("web", first);
    assert.deepEqual(status.inventory.map((e) => e.key).sort(), ["/ConfigMap/shop/web-config", "/Namespace//shop", "apps/Deployment/shop/web"]);
    const config = await getObject(client, "/api/v1/namespaces/shop/configmaps/web-config");
    assert.deepEqual(config?.["data"], { greeting: "hello", team: "blue" }, "the chart's values and the Application's inline values");
    const deployment = await getObject(client, "/apis/apps/v1/namespaces/shop/deployments/web");
    assert.equal((deployment?.["spec"] as { replicas?: number } | undefined)?.replicas, 3, "values-prd.yaml of the environment prd");

    const second = await s.commit("a new greeting", { "charts/web/values.yaml": "replicas: 1\ngreeting: bonjour\n" });
    await s.waitForReady("web", second);
    const changed = await getObject(client, "/api/v1/namespaces/shop/configmaps/web-config");
    assert.deepEqual(changed?.["data"], { greeting: "bonjour", team: "blue" });
  });
});
