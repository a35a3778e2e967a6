import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatProblem } from "../../core/errors.js";
import type { RenderedObject } from "../../core/objects.js";
import { renderPlain } from "../../render/render-plain.js";
import { objectProblems } from "../../validate/object-problems.js";
import { kubernetesValidator, supportsKubernetesKind, validateKubernetesObject } from "./kube-validate.js";

function render(content: string, path = "apps/web/web.yaml"): RenderedObject[] {
  const result = renderPlain([{ path, content }]);
  assert.deepStrictEqual(result.problems, []);
  return result.objects;
}

function problemsOf(content: string): string[] {
  return render(content).flatMap((o) => validateKubernetesObject(o).map(formatProblem));
}

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web}
  annotations: {ferry.dev/wave: "1"}
spec:
  replicas: 3
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      serviceAccountName: web
      securityContext: {runAsNonRoot: true, runAsUser: 1000}
      containers:
        - name: web
          image: nginx:1.27
          args: [--port, "8080"]
          ports:
            - {name: http, containerPort: 8080, protocol: TCP}
          env:
            - {name: MODE, value: production}
            - name: PASSWORD
              valueFrom:
                secretKeyRef: {name: web, key: password}
          resources:
            requests: {cpu: 100m, memory: 64Mi}
            limits: {cpu: 1, memory: 1.5Gi}
          readinessProbe:
            httpGet: {path: /healthz, port: http}
            periodSeconds: 5
          volumeMounts:
            - {name: data, mountPath: /data}
      volumes:
        - name: data
          emptyDir: {}
`;

describe("validateKubernetesObject", () => {
  it("accepts a realistic Deployment, Service, ConfigMap and Secret", () => {
    const more = `---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: ClusterIP
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web}
data: {LOG_LEVEL: info}
---
apiVersion: v1
kind: Secret
metadata: {name: web}
type: Opaque
data: {password: c2VjcmV0}
stringData: {plain: text}
`;
    assert.deepStrictEqual(problemsOf(DEPLOYMENT + more), []);
  });

  it("names an unknown field with its file, line and the closest known field", () => {
    const typo = DEPLOYMENT.replace("  replicas: 3", "  replicass: 3");
    assert.deepStrictEqual(problemsOf(typo), ['apps/web/web.yaml:9:3: spec.replicass: unknown field "replicass" (did you mean "replicas"?)']);
  });

  it("finds unknown fields deep inside the pod template", () => {
    const typo = DEPLOYMENT.replace("          image: nginx:1.27", "          imgae: nginx:1.27");
    assert.deepStrictEqual(problemsOf(typo), ['apps/web/web.yaml:24:11: spec.template.spec.containers[0].imgae: unknown field "imgae" (did you mean "image"?)']);
  });

  it("reports a required field that is missing at its parent's line", () => {
    const missing = DEPLOYMENT.replace("  selector:\n    matchLabels: {app: web}\n", "");
    assert.deepStrictEqual(problemsOf(missing), ["apps/web/web.yaml:8:1: spec.selector: required field is missing"]);
  });

  it("reports wrong types, enums and formats", () => {
    const wrong = DEPLOYMENT.replace("  replicas: 3", '  replicas: "3"').replace("protocol: TCP", "protocol: tcp").replace("memory: 64Mi", "memory: 64 MB");
    assert.deepStrictEqual(problemsOf(wrong), [
      "apps/web/web.yaml:9:13: spec.replicas: must be an integer, got a string",
      'apps/web/web.yaml:27:59: spec.template.spec.containers[0].ports[0].protocol: must be one of "SCTP", "TCP", "UDP", got "tcp"',
      'apps/web/web.yaml:34:43: spec.template.spec.containers[0].resources.requests.memory: "64 MB" is not a quantity such as "500m", "1.5" or "128Mi"',
    ]);
  });

  it("wants base64 in a Secret's data", () => {
    const secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  password: not base64!\n";
    assert.deepStrictEqual(problemsOf(secret), ["apps/web/web.yaml:5:13: data.password: must be base64-encoded (use stringData for plain text)"]);
  });

  it("names a kind Kubernetes does not have, and the apiVersion of one it has elsewhere", () => {
    const unknown = "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\n---\napiVersion: v1\nkind: Deployment\nmetadata: {name: d}\n";
    assert.deepStrictEqual(problemsOf(unknown), [
      'apps/web/web.yaml:6:7: kind: unknown kind "Deployment" (apiVersion v1): Deployment exists in apiVersion apps/v1, apps/v1beta1, apps/v1beta2, extensions/v1beta1',
      'apps/web/web.yaml:2:7: kind: unknown kind "Gadget" (apiVersion example.com/v1): it is not a Kubernetes kind and no CustomResourceDefinition among the rendered objects defines it',
    ]);
  });
});

describe("supportsKubernetesKind", () => {
  it("knows Kubernetes' own kinds by apiVersion", () => {
    assert.equal(supportsKubernetesKind("apps/v1", "Deployment"), true);
    assert.equal(supportsKubernetesKind("v1", "ConfigMap"), true);
    assert.equal(supportsKubernetesKind("apiextensions.k8s.io/v1", "CustomResourceDefinition"), true);
    assert.equal(supportsKubernetesKind("v1", "Deployment"), false);
    assert.equal(supportsKubernetesKind("example.com/v1", "Widget"), false);
  });
});

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [size]
              properties:
                size: {type: integer, minimum: 1}
                name: {type: string, pattern: "^[a-z]+$"}
                port: {x-kubernetes-int-or-string: true}
                tags: {type: array, items: {type: string}, x-kubernetes-list-type: set}
                labels: {type: object, additionalProperties: {type: string}}
                extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
                template: {type: object, x-kubernetes-embedded-resource: true, x-kubernetes-preserve-unknown-fields: true}
    - name: v2
      served: true
      storage: false
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
`;

describe("kubernetesValidator with CustomResourceDefinitions", () => {
  it("accepts a CRD that uses the x-kubernetes extensions", () => {
    assert.deepStrictEqual(problemsOf(CRD), []);
  });

  it("checks custom objects against the CRD's openAPIV3Schema, honouring preserve-unknown-fields", () => {
    const objects = render(`${CRD}---
apiVersion: example.com/v1
kind: Widget
metadata: {name: good, namespace: shop}
spec:
  size: 2
  name: abc
  port: http
  tags: [a, b]
  labels: {team: shop}
  extra: {anything: {goes: [1]}}
  template: {apiVersion: v1, kind: ConfigMap, metadata: {name: x}, data: {}}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: bad, namespace: shop, lables: {}}
spec:
  sise: 2
  name: ABC
  port: 1.5
---
apiVersion: example.com/v2
kind: Widget
metadata: {name: free}
spec: {whatever: true}
`);
    const validator = kubernetesValidator(objects);
    assert.deepStrictEqual(validator.customKinds.map((k) => `${k.apiVersion} ${k.kind} ${k.definedBy}`), [
      "example.com/v1 Widget CustomResourceDefinition/widgets.example.com",
      "example.com/v2 Widget CustomResourceDefinition/widgets.example.com",
    ]);
    assert.deepStrictEqual(objectProblems(objects, validator).map(formatProblem), [
      'apps/web/web.yaml:49:40: metadata.lables: unknown field "lables" (did you mean "labels"?)',
      "apps/web/web.yaml:50:1: spec.size: required field is missing",
      'apps/web/web.yaml:51:3: spec.sise: unknown field "sise" (did you mean "size"?)',
      "apps/web/web.yaml:52:9: spec.name: must match ^[a-z]+$",
      "apps/web/web.yaml:53:9: spec.port: must be an integer or a string, got a number",
    ]);
  });

  it("learns CRDs from other objects (another application) through withObjects", () => {
    const crds = render(CRD, "crds/widgets.yaml");
    const widget = render("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 0}\n");
    assert.deepStrictEqual(objectProblems(widget, kubernetesValidator()).map(formatProblem), [
      'apps/web/web.yaml:2:7: kind: unknown kind "Widget" (apiVersion example.com/v1) for target kubernetes',
    ]);
    assert.deepStrictEqual(objectProblems(widget, kubernetesValidator(), [...crds, ...widget]).map(formatProblem), ["apps/web/web.yaml:4:14: spec.size: must be at least 1, got 0"]);
  });

  it("refuses fields a structural schema does not declare", () => {
    const crd = CRD.slice(0, CRD.indexOf("          properties:\n")) + "          properties:\n            spec: {type: object}\n";
    const objects = render(`${crd}---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 1}\n`);
    assert.deepStrictEqual(objectProblems(objects, kubernetesValidator()).map(formatProblem), [
      'apps/web/web.yaml:21:8: spec.size: unknown field "size" (no fields are allowed here)',
    ]);
  });
});
