import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import type { Command } from "commander";
import { parse } from "yaml";
import { FERRY_VERSION } from "../core/version.js";
import { completionScript, SHELLS } from "./completion.js";
import { EXIT } from "./exit-codes.js";
import { formatHistory } from "./format-history.js";
import { buildProgram } from "./program.js";

const CLI = fileURLToPath(new URL("./main.js", import.meta.url));

function ferry(args: readonly string[], cwd = tmpdir()): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: "utf8", env: { ...process.env, FERRY_STATE_DIR: join(cwd, ".ferry-none") } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every command of the tree, with its path from the root. */
function allCommands(command: Command, path: readonly string[] = []): { path: readonly string[]; command: Command }[] {
  return command.commands.flatMap((c) => [{ path: [...path, c.name()], command: c }, ...allCommands(c, [...path, c.name()])]);
}

test("usage errors exit 2, as the help promises, not 1 like a failure found", () => {
  for (const args of [["no-such-command"], ["status", "--no-such-flag"], ["status", "-o", "xml"], ["sync"], ["completion", "tcsh"], []]) {
    const result = ferry(args);
    assert.equal(result.status, EXIT.error, `ferry ${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, /error|Usage/, `ferry ${args.join(" ")} says what is wrong`);
    assert.doesNotMatch(result.stderr, /CommanderError|at Command\./, "no stack trace");
  }
  for (const args of [["--help"], ["status", "--help"], ["--version"], ["help", "sync"]]) {
    assert.equal(ferry(args).status, EXIT.ok, `ferry ${args.join(" ")}`);
  }
});

test("ferry version prints the client's version, and says when no agent runs; -o json and -o yaml are data", () => {
  const text = ferry(["version"]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`client: ${FERRY_VERSION.replace(/\./g, "\\.")}`));
  assert.match(text.stdout, /agent: +none running/);
  assert.deepEqual(JSON.parse(ferry(["version", "-o", "json"]).stdout), { client: { version: FERRY_VERSION } });
  assert.deepEqual(parse(ferry(["version", "-o", "yaml"]).stdout), { client: { version: FERRY_VERSION } });
});

test("every command that prints data offers -o json and -o yaml; status offers wide", () => {
  // Commands that only act or run in the foreground print no data of their own.
  const printsNothing = new Set(["quickstart", "refresh", "completion", "pipeline"]);
  for (const { path, command } of allCommands(buildProgram())) {
    if (printsNothing.has(path.join(" "))) continue;
    const output = command.options.find((o) => o.long === "--output");
    assert.ok(output, `ferry ${path.join(" ")} has -o`);
    for (const format of ["text", "json", "yaml"]) assert.ok(output.argChoices?.includes(format), `ferry ${path.join(" ")} -o ${format}`);
  }
  for (const name of ["status", "history"]) {
    const command = buildProgram().commands.find((c) => c.name() === name);
    assert.ok(command?.options.find((o) => o.long === "--output")?.argChoices?.includes("wide"), `ferry ${name} -o wide`);
  }
});

test("-o wide shows what the table clips: full revisions and messages in the history", () => {
  const revision = "0123456789abcdef0123456789abcdef01234567";
  const message = `sync failed: ${"the service did not become healthy ".repeat(4)}`.trim();
  const page = { items: [{ id: 7, agent: "a", at: "2026-12-05T01:00:00.000Z", type: "SyncFinished", application: "web", revision, outcome: "Failed", message }], next: undefined };
  const narrow = formatHistory(page as unknown as Parameters<typeof formatHistory>[0], () => "");
  const wide = formatHistory(page as unknown as Parameters<typeof formatHistory>[0], () => "", { wide: true });
  assert.ok(!narrow.includes(revision) && narrow.includes("…"), narrow);
  assert.ok(wide.includes(revision) && !wide.includes("…"), wide);
});

test("the completion scripts name every command and every flag of the CLI", () => {
  const program = buildProgram();
  for (const shell of SHELLS) {
    const script = completionScript(program, shell);
    for (const { path, command } of allCommands(program)) {
      assert.ok(script.includes(path.join(" ")), `${shell}: ${path.join(" ")}`);
      for (const option of command.options.filter((o) => !o.hidden)) {
        const flag = shell === "fish" ? `-l ${option.long?.slice(2) ?? ""}` : option.long ?? "";
        assert.ok(script.includes(flag), `${shell}: ${path.join(" ")} ${option.long ?? ""}`);
      }
    }
  }
  assert.ok(completionScript(program, "fish").includes("-a 'text wide json yaml'"), "fish offers the choices of -o");
});

test("commands that reach a cluster take --kubeconfig and --context, as kubectl does", () => {
  const program = buildProgram();
  for (const name of ["agent", "bootstrap", "diff", "sync", "rollback", "release", "suspend", "resume"]) {
    const command = program.commands.find((c) => c.name() === name);
    for (const flag of ["--kubeconfig", "--context"]) assert.ok(command?.options.some((o) => o.long === flag && !o.hidden), `ferry ${name} ${flag}`);
  }
});

test("bash completes commands, subcommands, flags and option choices through its complete machinery", (t) => {
  const bash = spawnSync("bash", ["--version"]);
  if (bash.status !== 0) return t.skip("bash is not installed");
  const dir = mkdtempSync(join(tmpdir(), "ferry-completion-"));
  try {
    const script = join(dir, "ferry.bash");
    const generated = ferry(["completion", "bash"]);
    assert.equal(generated.status, 0, generated.stderr);
    writeFileSync(script, generated.stdout);
    // Completes like bash does on <Tab>: COMP_WORDS/COMP_CWORD, then the function `complete -p` names.
    const complete = (...words: string[]): string[] => {
      const shell = `source ${JSON.stringify(script)}
fn=$(complete -p ferry | sed -E 's/.*-F ([^ ]+).*/\\1/')
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}
"$fn"; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const result = spawnSync("bash", ["-c", shell], { cwd: dir, encoding: "utf8" });
      assert.equal(result.status, 0, result.stderr);
      return result.stdout.split("\n").filter(Boolean).sort();
    };
    assert.deepEqual(complete("ferry", "st"), ["status"]);
    assert.deepEqual(complete("ferry", "comp"), ["completion"]);
    assert.deepEqual(complete("ferry", "pipeline", ""), ["status"]);
    assert.deepEqual(complete("ferry", "status", "-o", ""), ["json", "text", "wide", "yaml"]);
    assert.deepEqual(complete("ferry", "completion", "--st"), ["--state-dir"]);
    assert.deepEqual(complete("ferry", "--state-dir", "x", "pipeline", "status", "--o"), ["--output"]);
    assert.deepEqual(complete("ferry", "history", "--env", "prod", "--li"), ["--limit"]);
    assert.deepEqual(complete("ferry", "validate", "ferry.b"), ["ferry.bash"], "[dir] arguments complete files");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
