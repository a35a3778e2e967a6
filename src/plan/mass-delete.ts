import { ANNOTATIONS } from "../core/objects.js";

/** Share of an application's objects one sync may delete without an override (more than this is refused). */
export const DEFAULT_MAX_DELETE_SHARE = 0.5;

/** What a sync would delete, measured against what the application owns. */
export interface MassDelete {
  readonly deleting: number;
  readonly owned: number;
}

/**
 * The mass delete a sync would do, or undefined when it stays within bounds:
 * deleting more than `maxShare` of the `owned` objects, or every one of them,
 * is a mass delete. Pure.
 */
export function findMassDelete(deleting: number, owned: number, maxShare = DEFAULT_MAX_DELETE_SHARE): MassDelete | undefined {
  if (deleting <= 0 || owned <= 0) return undefined;
  if (deleting >= owned || deleting > owned * maxShare) return { deleting, owned };
  return undefined;
}

/** The message of a refused mass delete: how many of how many, and the two ways to allow it. */
export function massDeleteMessage(application: string, found: MassDelete, maxShare = DEFAULT_MAX_DELETE_SHARE): string {
  const all = found.deleting >= found.owned;
  const share = all ? "all" : `more than ${Math.round(maxShare * 100)}%`;
  return (
    `refusing to delete ${found.deleting} of ${found.owned} objects (${share} of application ${application}); nothing was applied or pruned. ` +
    `If this is intended, annotate the Application with ${ANNOTATIONS.allowMassDelete}: "true" or run: ferry sync ${application} --allow-mass-delete`
  );
}
