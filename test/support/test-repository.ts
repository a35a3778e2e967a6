import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { runGit } from "../../src/source/git.js";

/** Content of one file in a test commit: text, or text with an executable bit; `null` deletes the file. */
export type TestFile = string | { readonly content: string; readonly executable: true } | null;

/** How a test commit is signed: git settings (`-c` pairs) and environment, e.g. `GNUPGHOME`. */
export interface CommitSigning {
  readonly config: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

const IDENTITY = ["-c", "user.name=Ferry Test", "-c", "user.email=test@ferry.invalid", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"];

/**
 * A real git repository in a temporary directory, for tests of anything that
 * reads git: commit files, tag, and remove it afterwards.
 */
export class TestRepository {
  readonly directory: string;

  private constructor(directory: string) {
    this.directory = directory;
  }

  /** Creates an empty repository whose first branch is `branch`. */
  static async create(branch = "main"): Promise<TestRepository> {
    const directory = await mkdtemp(join(tmpdir(), "ferry-test-repo-"));
    await runGit(["init", "--quiet", `--initial-branch=${branch}`, directory]);
    return new TestRepository(directory);
  }

  /** Runs git inside the repository, as the test identity. */
  git(...args: string[]): Promise<string> {
    return runGit([...IDENTITY, ...args], { cwd: this.directory });
  }

  /** Writes (or deletes, for `null`) the given files and commits all changes, signed when asked; returns the commit id. */
  async commit(files: Readonly<Record<string, TestFile>>, message = "change", signing?: CommitSigning): Promise<string> {
    for (const [path, file] of Object.entries(files)) {
      const full = join(this.directory, path);
      if (file === null) {
        await rm(full, { force: true });
        continue;
      }
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, typeof file === "string" ? file : file.content);
      await chmod(full, typeof file === "string" ? 0o644 : 0o755);
    }
    await this.git("add", "--all");
    if (signing) {
      const args = [...IDENTITY, ...signing.config, "commit", "--quiet", "--allow-empty", "-S", "-m", message];
      await runGit(args, { cwd: this.directory, ...(signing.env ? { env: signing.env } : {}) });
    } else await this.git("commit", "--quiet", "--allow-empty", "-m", message);
    return this.head();
  }

  /** The commit id the current branch points to. */
  async head(): Promise<string> {
    return (await this.git("rev-parse", "HEAD")).trim();
  }

  /** Tags HEAD (or `target`): annotated when `annotated` is true, signed (and so annotated) when `signing` is given. */
  async tag(name: string, options: { readonly annotated?: boolean; readonly target?: string; readonly signing?: CommitSigning } = {}): Promise<void> {
    const target = options.target ?? "HEAD";
    if (options.signing) {
      const args = [...IDENTITY, ...options.signing.config, "tag", "--sign", "-m", `release ${name}`, name, target];
      await runGit(args, { cwd: this.directory, ...(options.signing.env ? { env: options.signing.env } : {}) });
    } else if (options.annotated) await this.git("tag", "--annotate", "-m", `release ${name}`, name, target);
    else await this.git("tag", name, target);
  }

  /** Deletes the repository. */
  async remove(): Promise<void> {
    await rm(this.directory, { recursive: true, force: true });
  }
}
