import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatProblem } from "../core/errors.js";
import { MAX_ALIAS_COUNT, parseManifests } from "./parse-yaml.js";

const parse = (content: string) => parseManifests({ path: "apps/web/a.yaml", content });
const printed = (content: string) => parse(content).problems.map(formatProblem);

describe("parseManifests", () => {
  it("turns each document into a plain object with its index and start", () => {
    const { documents, problems } = parse("# lead\nkind: A\n---\nkind: B\nlist: [1, two]\n");
    assert.deepEqual(problems, []);
    assert.deepEqual(
      documents.map((d) => [d.value, d.document, d.line, d.column]),
      [
        [{ kind: "A" }, 0, 2, 1],
        [{ kind: "B", list: [1, "two"] }, 1, 4, 1],
      ],
    );
  });

  it("records where every field is (its value, or its key for a block mapping or list), escaping pointers", () => {
    const [doc] = parse("metadata:\n  name: web\n  empty:\nspec:\n  args:\n    - a\n    - {x: 1}\n  a/b~c: 1\n").documents;
    assert.deepEqual(doc?.positions, {
      "/metadata": { line: 1, column: 1 }, // a block mapping: the key
      "/metadata/name": { line: 2, column: 9 },
      "/metadata/empty": { line: 3, column: 3 }, // no value: the key
      "/spec": { line: 4, column: 1 },
      "/spec/args": { line: 5, column: 3 },
      "/spec/args/0": { line: 6, column: 7 },
      "/spec/args/1": { line: 7, column: 7 },
      "/spec/args/1/x": { line: 7, column: 11 },
      "/spec/a~1b~0c": { line: 8, column: 10 },
    });
  });

  it("keeps dates, yes/no and version-like values as the strings they look like", () => {
    const [doc] = parse("date: 2024-01-01\nflag: yes\nversion: 1.10\nquoted: '1.10'\n'null': ~\n").documents;
    assert.deepEqual(doc?.value, { date: "2024-01-01", flag: "yes", version: 1.1, quoted: "1.10", null: null });
  });

  it("skips empty documents and comment-only files", () => {
    assert.deepEqual(parse("").documents, []);
    assert.deepEqual(parse("# nothing\n").documents, []);
    const { documents, problems } = parse("---\n---\n# only a comment\n---\nkind: A\n---\n");
    assert.deepEqual(problems, []);
    // The first "---" opens document 0: the object is the third document.
    assert.deepEqual(documents.map((d) => d.document), [2]);
  });

  it("reports syntax errors with file, line and column", () => {
    assert.deepEqual(printed("a:\n  b: 1\n c: 2\n"), ["apps/web/a.yaml:3:1: all mapping items must start at the same column"]);
    assert.deepEqual(printed("a:\n\tb: 1\n"), ["apps/web/a.yaml:2:1: tabs are not allowed as indentation"]);
  });

  it("points an unclosed quote or bracket at where it opens, not at the end of the file", () => {
    assert.deepEqual(printed("a: 1\nb: 'open\nc: 2\nd: 3\n"), ["apps/web/a.yaml:2:4: missing closing 'quote (the string that starts here is never closed)"]);
    assert.match(printed("a:\n  b: [1, 2\n")[0] ?? "", /^apps\/web\/a\.yaml:2:6: .*the list that starts here is never closed/);
  });

  it("refuses duplicate keys, naming the key", () => {
    assert.deepEqual(printed("a: 1\nb: 2\na: 3\n"), ['apps/web/a.yaml:3:1: a: map keys must be unique: "a" appears twice']);
    // 1 and "1" are different YAML keys but the same JSON key.
    assert.deepEqual(printed("1: a\n'1': b\n"), ['apps/web/a.yaml:2:1: [1]: map keys must be unique: "1" appears twice']);
  });

  it("refuses documents that are not mappings", () => {
    assert.deepEqual(printed("kind: A\n---\n- a\n---\nhello\n"), [
      "apps/web/a.yaml:3:1: document 2 is a list, not a mapping: each document must be one object with apiVersion, kind and metadata",
      "apps/web/a.yaml:5:1: document 3 is a single value, not a mapping: each document must be one object with apiVersion, kind and metadata",
    ]);
  });

  it("refuses tags, values JSON cannot carry and keys that are not plain values", () => {
    assert.deepEqual(printed("a: !!binary aGk=\nb: !custom x\n"), [
      "apps/web/a.yaml:1:4: unknown tag !!binary: manifests are plain json, remove the tag",
      "apps/web/a.yaml:2:4: unknown tag !custom: manifests are plain json, remove the tag",
    ]);
    assert.deepEqual(printed("a:\n  b: [1, -.inf]\n"), ["apps/web/a.yaml:2:10: a.b[1]: -.inf is not a json number (quote it to keep it as text)"]);
    assert.deepEqual(printed("a: .nan\n"), ["apps/web/a.yaml:1:4: a: .nan is not a json number (quote it to keep it as text)"]);
    assert.deepEqual(printed("? [x]\n: 1\n"), ["apps/web/a.yaml:1:3: mapping keys must be plain values (strings, numbers or booleans), not lists, mappings or aliases"]);
    assert.deepEqual(printed("__proto__: {a: 1}\n"), ['apps/web/a.yaml:1:1: __proto__: the key "__proto__" is not allowed']);
    assert.deepEqual(printed("a: 1\n~: 2\n"), ["apps/web/a.yaml:2:1: a mapping key is empty or null: quote it if you mean the text"]);
  });

  it("expands anchors, aliases and merge keys within limits", () => {
    const [doc] = parse("base: &b {x: 1, y: 2}\ncopy: *b\nmerged:\n  <<: *b\n  y: 3\n").documents;
    assert.deepEqual(doc?.value, { base: { x: 1, y: 2 }, copy: { x: 1, y: 2 }, merged: { x: 1, y: 3 } });
  });

  it("fails an alias bomb cleanly and quickly", () => {
    const levels = ["a: &a [" + Array(9).fill('"lol"').join(", ") + "]"];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(", ")}]`);
    }
    const started = process.hrtime.bigint();
    const problems = printed(levels.join("\n") + "\n");
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.deepEqual(problems, [
      `apps/web/a.yaml:1:1: aliases expand to too much data (more than ${MAX_ALIAS_COUNT} expansions): write the values out instead of nesting aliases`,
    ]);
    // Fully expanded this is 9^10 strings; a generous bound still proves it was never built.
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it("reports an alias without its anchor", () => {
    assert.match(printed("a: *nope\n")[0] ?? "", /^apps\/web\/a\.yaml:1:1: unresolved alias .*nope/);
  });

  it("caps the problems of one garbled file", () => {
    const content = Array.from({ length: 60 }, (_, i) => `k${i}: !t${i} x`).join("\n");
    const problems = printed(content);
    assert.equal(problems.length, 21);
    assert.equal(problems.at(-1), "apps/web/a.yaml:1:1: 40 more problems in this file not shown");
  });
});
