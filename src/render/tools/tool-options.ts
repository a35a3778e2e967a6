/**
 * How Ferry renders Kustomize and Helm sources: the tools to use and their
 * limits, and for a Helm chart its release and values. One type for the
 * agent, `ferry validate` and the Kubernetes target.
 */
export interface ToolOptions {
  /** Path of the kustomize binary; default: `kustomize` on PATH, else `kubectl kustomize`. */
  readonly kustomize?: string;
  /** Path of kubectl, used for `kubectl kustomize` when kustomize is absent. */
  readonly kubectl?: string;
  /** Path of helm; default: the FERRY_HELM environment variable, else `helm` on PATH. */
  readonly helm?: string;
  /** Milliseconds a tool may run (default 60 s). */
  readonly timeoutMs?: number;
  /** Bytes of output a tool may print (default 64 MiB). */
  readonly maxOutputBytes?: number;
}

/** How a Helm chart is templated. */
export interface HelmOptions {
  /** Release name (`.Release.Name`); default: the application's name, else the chart directory's name. */
  readonly releaseName?: string;
  /** Namespace (`.Release.Namespace`) and `--namespace`. */
  readonly namespace?: string;
  /** Values files, relative to the repository root, applied in order after the chart's values.yaml. */
  readonly valuesFiles?: readonly string[];
  /**
   * The environment (`dev`, `prd`): `values-<environment>.yaml` in the chart
   * directory is applied after the other values files when it exists.
   */
  readonly environment?: string;
  /** Values given inline, applied last (`--set-json` of each top-level key). */
  readonly values?: Readonly<Record<string, unknown>>;
}
