import { stalled } from "../core/errors.js";
import type { WatchSpec } from "./watch-spec.js";
import type { ResolvedWatcherOptions, Watcher } from "./watcher.js";

/** Watches a source of type http (coming next: refuses for now). */
export function createHttpIndexWatcher(spec: Extract<WatchSpec, { type: "http" }>, _options: ResolvedWatcherOptions): Watcher {
  const description = "http " + JSON.stringify(spec);
  return {
    description,
    latest() {
      return Promise.reject(stalled("WatchTypeUnsupported", description + ": this watch type is not available yet"));
    },
  };
}
