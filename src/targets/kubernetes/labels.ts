/** The field manager of every apply Ferry sends. */
export const FIELD_MANAGER = "ferry";

/** Label on every object Ferry applies: the application it belongs to. Watches and prunes select by it. */
export const APPLICATION_LABEL = "ferry.dev/application";

/** Annotation `"true"`: when an update is refused because a field cannot change, delete the object and create it again. */
export const RECREATE_ANNOTATION = "ferry.dev/recreate";
