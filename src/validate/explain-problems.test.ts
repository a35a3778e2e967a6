import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { closestName, explainSchemaProblems, knownKeys } from "./explain-problems.js";

describe("explainSchemaProblems", () => {
  const schema = z.strictObject({ spec: z.strictObject({ items: z.array(z.strictObject({ name: z.string(), port: z.number() })).optional() }).optional() });

  it("finds the keys allowed at a path through optional and array wrappers", () => {
    assert.deepEqual(knownKeys(schema, []), ["spec"]);
    assert.deepEqual(knownKeys(schema, ["spec", "items", "0"]), ["name", "port"]);
    assert.equal(knownKeys(schema, ["spec", "items", "0", "name"]), undefined);
  });

  it("suggests a close name or lists the known ones", () => {
    const [close, far] = explainSchemaProblems(
      [
        { severity: "error", message: 'unknown field "prot"', field: "/spec/items/0/prot" },
        { severity: "error", message: 'unknown field "colour"', field: "/spec/items/0/colour" },
      ],
      schema,
      {},
    );
    assert.equal(close?.message, 'unknown field "prot" (did you mean "port"?)');
    assert.equal(far?.message, 'unknown field "colour" (expected one of: name, port)');
  });

  it("keeps 'missing' for missing fields and names the type of present ones", () => {
    const missing = { severity: "error" as const, message: "required field is missing (expected number)", field: "/spec/items/0/port" };
    assert.equal(explainSchemaProblems([missing], schema, { spec: { items: [{}] } })[0]?.message, missing.message);
    assert.equal(explainSchemaProblems([missing], schema, { spec: { items: [{ port: "80" }] } })[0]?.message, "must be a number, got a string");
  });

  it("only calls something a typo when it is close", () => {
    assert.equal(closestName("selfheal", ["selfHeal", "prune"]), "selfHeal");
    assert.equal(closestName("x", ["prune"]), undefined);
    assert.equal(closestName("intervall", ["interval"]), "interval");
  });
});
