import { isMap, isSeq, parseAllDocuments } from "yaml";

/** Where the agent installed by `ferry bootstrap` takes its Application documents from, and what it runs. */
export interface AgentSettings {
  /** Repository URL the agent pulls. */
  readonly repo: string;
  /** Branch or tag it follows. */
  readonly ref: string;
  /** Directory of the Application documents inside the repository. */
  readonly path: string;
  /** Container image; undefined keeps the manifest's. */
  readonly image?: string;
}

/** One file of Ferry's install manifests: its name in the directory and its text. */
export interface ManifestText {
  readonly name: string;
  readonly content: string;
}

/** The Deployment that runs the agent, and its container, in `deploy/kubernetes`. */
export const AGENT_DEPLOYMENT = { namespace: "ferry-system", name: "ferry", container: "agent" } as const;

/** The agent's flags that bootstrap sets. */
const SET_FLAGS = ["repo", "ref", "path"] as const;

/**
 * The install manifests with the agent's `--repo`, `--ref`, `--path` (and
 * the image, when given) set in its Deployment; every other file, comment
 * and flag is kept as written. Pure. Throws naming the file when the
 * Deployment or its container cannot be found.
 */
export function withAgentSettings(files: readonly ManifestText[], settings: AgentSettings): ManifestText[] {
  let found = false;
  const out = files.map((file) => {
    if (!/\.ya?ml$/.test(file.name) || !/kind:\s*Deployment/.test(file.content)) return file;
    const documents = parseAllDocuments(file.content);
    if (!Array.isArray(documents)) return file;
    let changed = false;
    for (const doc of documents) {
      if (doc.get("kind") !== "Deployment" || doc.getIn(["metadata", "name"]) !== AGENT_DEPLOYMENT.name) continue;
      const containers = doc.getIn(["spec", "template", "spec", "containers"]);
      const container = isSeq(containers) ? containers.items.find((c) => isMap(c) && c.get("name") === AGENT_DEPLOYMENT.container) : undefined;
      if (!isMap(container)) throw new Error(`${file.name}: Deployment ${AGENT_DEPLOYMENT.name} has no container named ${AGENT_DEPLOYMENT.container}`);
      const args = container.get("args");
      if (!isSeq(args)) throw new Error(`${file.name}: container ${AGENT_DEPLOYMENT.container} of Deployment ${AGENT_DEPLOYMENT.name} has no args list`);
      const values: Record<(typeof SET_FLAGS)[number], string> = { repo: settings.repo, ref: settings.ref, path: settings.path };
      for (const flag of SET_FLAGS) {
        const index = args.items.findIndex((item) => String(isScalarValue(item)).startsWith(`--${flag}=`));
        const arg = doc.createNode(`--${flag}=${values[flag]}`);
        if (index >= 0) args.items[index] = arg;
        else args.items.push(arg);
      }
      if (settings.image !== undefined) container.set("image", settings.image);
      found = true;
      changed = true;
    }
    return changed ? { name: file.name, content: documents.map((d) => d.toString()).join("") } : file;
  });
  if (!found) throw new Error(`no file of the install manifests holds Deployment ${AGENT_DEPLOYMENT.namespace}/${AGENT_DEPLOYMENT.name}`);
  return out;
}

function isScalarValue(item: unknown): unknown {
  return typeof item === "object" && item !== null && "value" in item ? (item as { value: unknown }).value : item;
}
