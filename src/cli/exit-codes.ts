/** Exit codes of every command, in one place so CI can rely on them. */
export const EXIT = {
  /** Everything asked for was done and is healthy. */
  ok: 0,
  /** It ran, and found a failure (a sync failed, an application is not Ready, a diff found changes). */
  failed: 1,
  /** It could not run: bad usage, no agent reachable, unreadable configuration. */
  error: 2,
} as const;

/** An error that ends a command with a given exit code and a message for people. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode: number = EXIT.error,
  ) {
    super(message);
  }
}
