import type { Problem } from "../core/errors.js";
import { parseOffThread } from "../render/parse-pool.js";
import { stalled, toFerryError } from "../core/errors.js";
import type { ResourceKey, Revision } from "../core/ids.js";
import type { Application } from "../config/application.js";
import { loadApplications } from "../config/load-config.js";
import type { DiffView } from "../diff/format-diff.js";
import { toDiffView } from "../diff/format-diff.js";
import { loadManifestFiles } from "../render/load-files.js";
import { renderDirectory } from "../render/render.js";
import type { Artifact } from "../source/artifact.js";
import { refProblem } from "../source/remote-ref.js";
import { normalizeRepositoryUrl, redactSecrets } from "../source/repository-url.js";
import type { Agent } from "./agent.js";
import { count } from "../core/text.js";

/** What merging a revision would change in one application's live target. */
export interface RevisionDiff {
  readonly name: string;
  /** The commit compared. */
  readonly revision: Revision;
  /** The branch or tag it was named by, when it was. */
  readonly ref?: string;
  /** True for an application that exists only in the configuration at that revision. */
  readonly newApplication: boolean;
  /** Objects created (`missing`), changed, and pruned (`orphan`), secrets masked. */
  readonly diffs: readonly DiffView[];
  /** Objects that left Git at that revision but would stay (pruning off, or `ferry.dev/prune: disabled`). */
  readonly kept: readonly ResourceKey[];
}

/** An application that could not be compared at the revision: it does not render or validate, or its source failed. */
export interface RevisionDiffFailure {
  readonly name: string;
  readonly revision?: Revision;
  readonly error: string;
  readonly reason: string;
  /** `stalled`: the revision itself is broken (a merge would stall the application); otherwise it could not be checked. */
  readonly disposition: "stalled" | "waiting" | "transient";
  readonly problems: readonly Problem[];
}

/** What `ferry diff --revision` reports. */
export interface RevisionDiffReport {
  /** As asked: a commit id, a prefix, a branch or a tag. */
  readonly revision: string;
  readonly applications: readonly (RevisionDiff | RevisionDiffFailure)[];
  /** Applications whose repository does not have that revision. */
  readonly skipped: readonly { readonly name: string; readonly reason: string }[];
}

interface Located {
  readonly artifact: Artifact;
  readonly ref?: string;
}

/**
 * What merging a revision would change in each application (or the one
 * named): each application's directory rendered at that revision of its own
 * repository and compared with its live target the way a sync would, without
 * applying anything. A commit id or prefix (7+ hex digits) is looked up first,
 * then a branch or tag of that name. Applications in the configuration at
 * that revision but not running yet are compared as new. Throws a stalled
 * error when no application's repository knows the revision, or the named
 * application is unknown.
 */
export async function diffAtRevision(agent: Agent, revision: string, only?: string): Promise<RevisionDiffReport> {
  const located = new Map<string, Promise<Located | undefined>>();
  const locate = (url: string, ref: string): Promise<Located | undefined> => {
    const key = `${normalizeRepositoryUrl(url)}\n${ref}`;
    let found = located.get(key);
    if (!found) {
      found = locateRevision(agent, url, ref, revision);
      located.set(key, found);
    }
    return found;
  };
  const running = agent.engine.applications();
  const failures: RevisionDiffFailure[] = [];
  const fresh = await newApplicationsAt(agent, revision, locate, running).catch((error: unknown) => {
    const e = toFerryError(error);
    failures.push({ name: "configuration", error: e.message, reason: e.reason, disposition: e.disposition, problems: e.problems });
    return [];
  });
  const all = [...running.map((app) => ({ app, isNew: false })), ...fresh.map((app) => ({ app, isNew: true }))];
  const chosen = only === undefined ? all : all.filter((a) => a.app.name === only);
  if (only !== undefined && chosen.length === 0) throw stalled("UnknownApplication", `unknown application ${JSON.stringify(only)} (neither running nor in the configuration at ${revision})`);

  const results: (RevisionDiff | RevisionDiffFailure)[] = only === undefined ? failures : [];
  const skipped: { name: string; reason: string }[] = [];
  for (const { app, isNew } of chosen) {
    const url = app.spec.source.repoURL ?? agent.options.repo;
    let place: Located | undefined;
    try {
      place = await locate(url, app.spec.source.ref ?? agent.options.ref);
    } catch (error) {
      const e = toFerryError(error);
      results.push({ name: app.name, error: e.message, reason: e.reason, disposition: e.disposition, problems: e.problems });
      continue;
    }
    if (!place) {
      skipped.push({ name: app.name, reason: `${redactSecrets(url)} has no commit, branch or tag ${JSON.stringify(revision)}` });
      continue;
    }
    try {
      const preview = await agent.engine.preview(app, place.artifact);
      results.push({
        name: app.name,
        revision: place.artifact.revision,
        ...(place.ref !== undefined ? { ref: place.ref } : {}),
        newApplication: isNew,
        diffs: preview.diffs.map(toDiffView),
        kept: preview.kept,
      });
    } catch (error) {
      const e = toFerryError(error);
      results.push({ name: app.name, revision: place.artifact.revision, error: e.message, reason: e.reason, disposition: e.disposition, problems: e.problems });
    }
  }
  if (results.length === 0 && skipped.length > 0) {
    const where = [...new Set(chosen.map((a) => redactSecrets(a.app.spec.source.repoURL ?? agent.options.repo)))].join(", ");
    throw stalled("RevisionNotFound", `revision ${JSON.stringify(revision)} not found: no commit, branch or tag of that name in ${where}`);
  }
  return { revision, applications: results, skipped };
}

/** The revision in one repository: a commit id or prefix, else a branch or tag; undefined when it has neither. */
async function locateRevision(agent: Agent, url: string, ref: string, revision: string): Promise<Located | undefined> {
  if (/^[0-9a-f]{7,64}$/i.test(revision)) {
    const fetcher = agent.sourceAt(url, ref);
    const commit = await fetcher.resolveCommit?.(revision);
    if (commit !== undefined) {
      try {
        return { artifact: await fetcher.artifactAt(commit) };
      } catch (error) {
        // A full id the remote does not have cannot be fetched; a name of that spelling may still be a branch.
        if (revision.length < 40) throw error;
      }
    }
  }
  if (refProblem(revision) !== undefined) return undefined;
  try {
    return { artifact: (await agent.sourceAt(url, revision).refresh()).artifact, ref: revision };
  } catch (error) {
    if (toFerryError(error).reason === "RefNotFound") return undefined;
    throw error;
  }
}

/** Applications the configuration at the revision declares that are not running, when the configuration's repository has the revision. */
async function newApplicationsAt(
  agent: Agent,
  revision: string,
  locate: (url: string, ref: string) => Promise<Located | undefined>,
  running: readonly Application[],
): Promise<Application[]> {
  const place = await locate(agent.options.repo, agent.options.ref);
  if (!place) return [];
  const files = await loadManifestFiles(place.artifact.directory, agent.options.path).catch(() => undefined);
  if (!files) return [];
  await parseOffThread(files);
  const rendered = renderDirectory(files, {});
  const loaded = rendered.problems.length === 0 ? loadApplications(rendered.objects) : { applications: [], problems: rendered.problems };
  const errors = loaded.problems.filter((p) => p.severity === "error");
  if (errors.length > 0) throw stalled("ConfigInvalid", `the configuration at ${revision} is not valid (${count(errors.length, "problem")})`, { problems: errors });
  const names = new Set(running.map((a) => a.name));
  return loaded.applications.filter((a) => !names.has(a.name));
}
