import { Option } from "commander";
import { stringify } from "yaml";

/** What `-o` asks for: a table for people (text, or wide with more columns), or data for programs. */
export type OutputFormat = "text" | "wide" | "json" | "yaml";

/** The formats that print data rather than text for people. */
export type DataFormat = "json" | "yaml";

/**
 * The `-o, --output` option of a command: text, json and yaml everywhere,
 * and wide where the table has more to show.
 */
export function outputOption(options: { readonly wide?: boolean } = {}): Option {
  const choices: OutputFormat[] = options.wide ? ["text", "wide", "json", "yaml"] : ["text", "json", "yaml"];
  return new Option("-o, --output <format>", "output format").choices(choices).default("text");
}

/** Whether the format asks for data (json, yaml) rather than text for people. */
export function isData(format: OutputFormat): format is DataFormat {
  return format === "json" || format === "yaml";
}

/**
 * A value as JSON or YAML. Both print the same data: the value goes through
 * JSON first, so dates, undefined fields and class instances look alike in both.
 */
export function formatData(value: unknown, format: DataFormat): string {
  const json = JSON.stringify(value, null, 2);
  if (format === "json") return json;
  return stringify(JSON.parse(json) as unknown, { lineWidth: 0 }).trimEnd();
}

/**
 * One item of a stream (the agent's events): a JSON line, or a YAML document
 * that starts with `---`.
 */
export function formatStreamItem(value: unknown, format: DataFormat): string {
  if (format === "json") return JSON.stringify(value);
  return `---\n${formatData(value, "yaml")}`;
}
