import path from "node:path";
import { formatReportGithub, formatReportText, reportJson } from "../../validate/format-report.js";
import { validateRepository } from "../../validate/validate-repository.js";
import { EXIT } from "../exit-codes.js";
import type { OutputFormat } from "../output.js";
import { isData, formatData } from "../output.js";

/** Options of `ferry validate`. */
export interface ValidateCommandOptions {
  readonly path: string;
  readonly root?: string;
  readonly output: OutputFormat;
  readonly format?: "text" | "github";
}

/**
 * `ferry validate [dir]`: checks a checkout offline, for pull requests.
 * Exit 0 when clean (warnings allowed), 1 when an error was found, 2 when it cannot run.
 */
export async function runValidateCommand(dir: string, options: ValidateCommandOptions): Promise<number> {
  const report = await validateRepository(path.resolve(dir), {
    configPath: options.path,
    ...(options.root !== undefined ? { root: path.resolve(options.root) } : {}),
  });
  if (isData(options.output)) console.log(formatData(reportJson(report), options.output));
  else if (options.format === "github") {
    const text = formatReportGithub(report);
    if (text) console.log(text);
  } else console.log(formatReportText(report));
  return report.problems.some((p) => p.severity === "error") ? EXIT.failed : EXIT.ok;
}
