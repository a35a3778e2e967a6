import { formatProblem, pointerToPath } from "../core/errors.js";
import type { ReportedProblem, ValidationReport } from "./validate-repository.js";
import { count } from "../core/text.js";

/**
 * For people: problems grouped by file, each as `file:line:col: field: message`
 * with its rule, then the source line and a caret under the column; a summary last.
 */
export function formatReportText(report: ValidationReport): string {
  const out: string[] = [];
  let file: string | undefined;
  for (const problem of report.problems) {
    if (problem.location.file !== file) {
      file = problem.location.file;
      out.push(`${out.length > 0 ? "\n" : ""}${file}`);
    }
    const tag = problem.severity === "warning" ? `warning, ${problem.rule}` : problem.rule;
    out.push(`  ${formatProblem(problem)} [${tag}]`);
    out.push(...snippet(report.sources.get(problem.location.file), problem.location.line, problem.location.column));
  }
  const errors = report.problems.filter((p) => p.severity === "error").length;
  const warnings = report.problems.length - errors;
  const checked = `${count(report.applications, "application")}, ${count(report.files, "file")}, ${count(report.objects, "object")}`;
  out.push(`${out.length > 0 ? "\n" : ""}${errors === 0 && warnings === 0 ? "valid" : `${count(errors, "error")}, ${count(warnings, "warning")}`} (${checked} checked)`);
  if (report.encryptedFiles > 0) {
    out.push(`${count(report.encryptedFiles, "file")} with encrypted values (SOPS, age): structure checked only, values not decrypted (validate uses no key; the agent decrypts with --age-key-file)`);
  }
  return out.join("\n");
}

/** For scripts: one object per problem. */
export function reportJson(report: ValidationReport): object[] {
  return report.problems.map((p) => ({
    file: p.location.file,
    line: p.location.line,
    column: p.location.column,
    field: p.field === undefined ? null : pointerToPath(p.field),
    severity: p.severity,
    message: p.message,
    rule: p.rule,
  }));
}

/** GitHub Actions workflow commands: one `::error` or `::warning` annotation per problem. */
export function formatReportGithub(report: ValidationReport): string {
  return report.problems.map(githubAnnotation).join("\n");
}

/** One annotation, escaped as the runner expects (properties escape ':' and ',' too). */
export function githubAnnotation(problem: ReportedProblem): string {
  const { file, line, column } = problem.location;
  const properties = [`file=${escapeProperty(file)}`, `line=${line}`, `col=${column}`, `title=${escapeProperty(problem.rule)}`].join(",");
  const field = problem.field === undefined ? "" : `${pointerToPath(problem.field)}: `;
  return `::${problem.severity} ${properties}::${escapeData(field + problem.message)}`;
}

/** `%`, CR and LF, as GitHub's runner unescapes message data. */
export function escapeData(text: string): string {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** Data escaping plus `:` and `,`, which separate properties. */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

const MAX_SNIPPET = 160;

/** The line with its number, and a caret under the column; nothing when the line is unknown. */
function snippet(source: string | undefined, line: number, column: number): string[] {
  if (source === undefined) return [];
  const text = lineAt(source, line);
  if (text === undefined) return [];
  // Tabs would move the caret; control characters would garble the terminal.
  const shown = text.replace(/\t/g, " ").replace(/[\p{Cc}]/gu, "?");
  const start = column > MAX_SNIPPET ? column - MAX_SNIPPET / 2 : 0;
  const cut = shown.slice(start, start + MAX_SNIPPET);
  const gutter = String(line);
  const caretAt = Math.max(0, Math.min(column - 1 - start, cut.length));
  return [`    ${gutter} | ${cut}`, `    ${" ".repeat(gutter.length)} | ${" ".repeat(caretAt)}^`];
}

function lineAt(source: string, line: number): string | undefined {
  let start = 0;
  for (let i = 1; i < line; i++) {
    const next = source.indexOf("\n", start);
    if (next === -1) return undefined;
    start = next + 1;
  }
  const end = source.indexOf("\n", start);
  return source.slice(start, end === -1 ? undefined : end).replace(/\r$/, "");
}
