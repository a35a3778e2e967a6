/** The field manager of every apply Ferry sends. */
export const FIELD_MANAGER = "ferry";

/** Label on every object Ferry applies: the application it belongs to. Watches and prunes select by it. */
export const APPLICATION_LABEL = "ferry.dev/application";

/** Annotation `"true"`: when an update is refused because a field cannot change, delete the object and create it again. */
export const RECREATE_ANNOTATION = "ferry.dev/recreate";

/** Annotation on every object Ferry created: the application that created it. Only such objects are pruned without being told. */
export const OWNED_BY_ANNOTATION = "ferry.dev/owned-by";

/** Annotation on an object that existed before Ferry managed it: the application that adopted it. Left in place when it leaves Git. */
export const ADOPTED_BY_ANNOTATION = "ferry.dev/adopted-by";

/** Annotation `"true"` on an object in Git: adopt it when it already exists in the cluster (as `spec.kubernetes.adopt` does for a whole application). */
export const ADOPT_ANNOTATION = "ferry.dev/adopt";
