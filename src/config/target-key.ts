/**
 * The name of the target an application runs on in the agent's targets:
 * `kubernetes` for the default cluster, `kubernetes@<context>` for another.
 * Apart from application.ts so that readers of records load no schema.
 */
export function targetKey(spec: { readonly target: string; readonly cluster?: string }): string {
  return spec.cluster === undefined ? spec.target : `${spec.target}@${spec.cluster}`;
}
