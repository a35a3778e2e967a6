import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { findSetters, readValues, writeValues } from "./setters.js";

// Tests run from dist/src/promote/; the fixtures stay in the repository.
const CASE = fileURLToPath(new URL("../../../testdata/promote/write-back/", import.meta.url));
const UPDATE = process.env["UPDATE_GOLDEN"] === "1";

describe("setter comments", () => {
  it("finds the marked values of every document, with their lines, and nothing else", async () => {
    const text = await readFile(`${CASE}input.yaml`, "utf8");
    assert.deepEqual(
      findSetters(text).map((s) => [s.pipeline, s.field, s.value, s.line, s.style]),
      [
        ["web", "version", "1.4.2", 8, "double"],
        ["other", "version", "checkout", 9, "plain"],
        ["web", "version", "1.4.2", 14, "plain"],
        ["web", "url", "https://artifacts.example/web-1.4.2.tgz", 15, "single"],
        ["web", "digest", "sha256:aaaa", 16, "double"],
        ["web", "version", "1.4.2", 28, "double"],
      ],
    );
    assert.deepEqual(readValues(text, "web"), { version: "1.4.2", url: "https://artifacts.example/web-1.4.2.tgz", digest: "sha256:aaaa" });
  });

  it("writes a bump in place: the golden file differs from the input only in the marked values", async () => {
    const input = await readFile(`${CASE}input.yaml`, "utf8");
    const values = { version: "2.0.0", url: "https://artifacts.example/web-2.0.0.tgz", digest: "sha256:bbbb" };
    const { text, changed } = writeValues(input, "web", values);
    if (UPDATE) await writeFile(`${CASE}expected.yaml`, text);
    assert.equal(text, await readFile(`${CASE}expected.yaml`, "utf8"));
    assert.deepEqual(changed, ["digest", "url", "version"]);
    const before = input.split("\n");
    const after = text.split("\n");
    assert.equal(after.length, before.length);
    const differing = before.flatMap((line, i) => (line === after[i] ? [] : [i + 1]));
    assert.deepEqual(differing, [8, 14, 15, 16, 28]);
    assert.deepEqual(readValues(text, "web"), values);
    // Another pipeline's values are not touched.
    assert.deepEqual(readValues(text, "other"), { version: "checkout" });
    // Written twice, nothing changes.
    assert.deepEqual(writeValues(text, "web", values), { text, changed: [] });
  });

  it("quotes a plain value that YAML would read as something other than that string", () => {
    const text = "a: x # ferry:set p:version\nb: y # ferry:set p:flag\nc: z # ferry:set p:note\n";
    const { text: out } = writeValues(text, "p", { version: "2", flag: "true", note: "a: b #c" });
    assert.equal(out, 'a: "2" # ferry:set p:version\nb: "true" # ferry:set p:flag\nc: "a: b #c" # ferry:set p:note\n');
    const [doc] = parseAllDocuments(out);
    assert.deepEqual(doc?.toJS(), { a: "2", b: "true", c: "a: b #c" });
  });

  it("keeps single quotes and escapes what needs it", () => {
    const { text } = writeValues("a: 'x' # ferry:set p:version\nb: \"y\" # ferry:set p:url\n", "p", { version: "it's", url: 'say "hi"\n' });
    assert.equal(text, "a: 'it''s' # ferry:set p:version\nb: \"say \\\"hi\\\"\\n\" # ferry:set p:url\n");
    assert.deepEqual(parseAllDocuments(text)[0]?.toJS(), { a: "it's", b: 'say "hi"\n' });
  });
});
