import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatProblem } from "../../core/errors.js";
import { objectsFromOutput } from "./tool-output.js";

describe("objectsFromOutput", () => {
  it("attributes objects to their chunk's file and reports an object printed twice by file", () => {
    const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n";
    const result = objectsFromOutput(
      [
        { content: cm, file: "charts/web/templates/a.yaml" },
        { content: `${cm}---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: web\n`, file: "charts/web/templates/b.yaml" },
      ],
      "helm template charts/web",
    );
    assert.deepStrictEqual(result.objects.map((o) => `${o.key} ${o.origin.file}:${o.origin.line} #${o.origin.document}`), [
      "/ConfigMap//web charts/web/templates/a.yaml:1 #0",
      "/Secret//web charts/web/templates/b.yaml:1 #1",
    ]);
    assert.deepStrictEqual(result.problems.map(formatProblem), [
      "charts/web/templates/b.yaml:1:1: metadata.name: in the output of helm template charts/web: ConfigMap/web is declared twice: first at charts/web/templates/a.yaml (another document)",
    ]);
  });
});
