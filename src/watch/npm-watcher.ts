import { stalled } from "../core/errors.js";
import type { WatchSpec } from "./watch-spec.js";
import type { ResolvedWatcherOptions, Watcher } from "./watcher.js";

/** Watches a source of type npm (coming next: refuses for now). */
export function createNpmWatcher(spec: Extract<WatchSpec, { type: "npm" }>, _options: ResolvedWatcherOptions): Watcher {
  const description = "npm " + JSON.stringify(spec);
  return {
    description,
    latest() {
      return Promise.reject(stalled("WatchTypeUnsupported", description + ": this watch type is not available yet"));
    },
  };
}
