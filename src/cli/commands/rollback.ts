import { userInfo, hostname } from "node:os";
import type { RollbackResult } from "../../agent/rollback.js";
import type { CommitIdentity } from "../../source/git-writer.js";
import { runGit } from "../../source/git.js";
import { AgentClient } from "../client.js";
import { CliError, EXIT } from "../exit-codes.js";
import { formatRollback } from "../format-history.js";
import { withLocalAgent } from "./offline.js";

/**
 * `ferry rollback <app>`: writes the rollback commit (the application's
 * directory as it was at an earlier deployment) and lets the agent sync it.
 */
export async function runRollbackCommand(stateDir: string, name: string, options: { to?: string; reason?: string; output: "text" | "json" }): Promise<number> {
  const author = await gitIdentity();
  const request = { ...(options.to !== undefined ? { to: options.to } : {}), ...(options.reason !== undefined ? { reason: options.reason } : {}), author };
  const client = await AgentClient.find(stateDir);
  let result: RollbackResult;
  if (client) result = await client.rollback(name, request);
  else {
    result = await withLocalAgent(stateDir, async (agent) => {
      if (!agent.engine.applications().some((a) => a.name === name)) throw new CliError(`unknown application ${JSON.stringify(name)}`);
      return agent.rollback(name, request);
    });
  }
  if (options.output === "json") console.log(JSON.stringify(result, null, 2));
  else {
    console.log(formatRollback(result));
    if (!client) console.log("no agent is running: the rollback is applied when one starts");
  }
  return EXIT.ok;
}

/** `ferry release <app>`: lets automatic promotion move the application again. */
export async function runReleaseCommand(stateDir: string, name: string): Promise<number> {
  const client = await AgentClient.find(stateDir);
  const released = client
    ? await client.release(name)
    : await withLocalAgent(stateDir, async (agent) => {
        if (!agent.engine.applications().some((a) => a.name === name)) throw new CliError(`unknown application ${JSON.stringify(name)}`);
        return agent.release(name);
      });
  console.log(released ? `released ${name}: automatic promotion may move it again` : `${name} was not on hold`);
  return EXIT.ok;
}

/**
 * Who runs the command, as git decides it for a commit: `GIT_AUTHOR_NAME` and
 * `GIT_AUTHOR_EMAIL` (and `GIT_COMMITTER_*` for the committer) before
 * `author.*`/`committer.*` and `user.*` in git config, then `$EMAIL`; asked of
 * `git var`, so every rule of git's holds. Else the login name on this host.
 */
export async function gitIdentity(): Promise<CommitIdentity> {
  const read = async (variable: string): Promise<{ name: string; email: string } | undefined> => {
    try {
      return parseIdent((await runGit(["var", variable])).trim());
    } catch {
      return undefined;
    }
  };
  const [author, committer] = await Promise.all([read("GIT_AUTHOR_IDENT"), read("GIT_COMMITTER_IDENT")]);
  const login = userInfo().username;
  const who = author ?? { name: login, email: `${login}@${hostname()}` };
  const differs = committer && (committer.name !== who.name || committer.email !== who.email);
  return { ...who, ...(differs ? { committer } : {}) };
}

/** `Name <email> 1700000000 +0000` as `git var` prints an identity. */
function parseIdent(line: string): { name: string; email: string } | undefined {
  const match = /^(.*?) <([^>]*)>/.exec(line);
  const name = match?.[1]?.trim();
  return match && name ? { name, email: match[2] ?? "" } : undefined;
}
