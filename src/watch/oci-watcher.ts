import { stalled } from "../core/errors.js";
import type { WatchSpec } from "./watch-spec.js";
import type { ResolvedWatcherOptions, Watcher } from "./watcher.js";

/** Watches a source of type oci (coming next: refuses for now). */
export function createOciWatcher(spec: Extract<WatchSpec, { type: "oci" }>, _options: ResolvedWatcherOptions): Watcher {
  const description = "oci " + JSON.stringify(spec);
  return {
    description,
    latest() {
      return Promise.reject(stalled("WatchTypeUnsupported", description + ": this watch type is not available yet"));
    },
  };
}
