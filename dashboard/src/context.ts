import type { EngineEvent } from "../../src/engine/events.js";
import type { Api } from "./api.js";

/** What every view gets: the API, what the token may do, and the live events. */
export interface Context {
  readonly api: Api;
  /** `admin` shows actions (sync, refresh, rollback); `read` hides them. */
  readonly scope: "admin" | "read";
  /** Listens to the agent's events; returns the function that stops listening. */
  onEvent(listener: (event: EngineEvent) => void): () => void;
  /** Called when the live stream connects again: views reload what they may have missed. */
  onReconnect(listener: () => void): () => void;
}

/** A view draws itself into `main` and returns its cleanup (called when the route changes). */
export type View = (main: HTMLElement, context: Context) => () => void;
