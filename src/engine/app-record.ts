import type { Digest, Revision } from "../core/ids.js";
import type { ApplicationStatus } from "./status.js";
import { initialStatus } from "./status.js";

/**
 * What the engine keeps about one application between runs (and across
 * restarts): its status, with the inventory, and what was last applied.
 */
export interface AppRecord {
  readonly name: string;
  readonly status: ApplicationStatus;
  /** Revision and rendered digest of the last successful apply. */
  readonly applied?: { readonly revision: Revision; readonly digest: Digest; readonly at: string };
  /** The input that stalled the last run: not retried automatically until it changes. */
  readonly stalledOn?: { readonly revision: Revision; readonly digest?: Digest };
  /** Whether the application prunes: decides what happens to its objects when it leaves Git. */
  readonly prune: boolean;
}

/** The record of an application seen for the first time. */
export function newRecord(name: string, target: string): AppRecord {
  return { name, status: initialStatus(name, target), prune: true };
}

/** Where records live between runs. */
export interface RecordStore {
  load(name: string): Promise<AppRecord | undefined>;
  list(): Promise<AppRecord[]>;
  save(record: AppRecord): Promise<void>;
  remove(name: string): Promise<void>;
}

/** A record store in memory, for tests and one-shot commands. */
export class MemoryRecordStore implements RecordStore {
  readonly #records = new Map<string, AppRecord>();
  /** How many saves happened: "applying twice writes nothing" is testable. */
  saves = 0;
  async load(name: string): Promise<AppRecord | undefined> {
    return this.#records.get(name);
  }
  async list(): Promise<AppRecord[]> {
    return [...this.#records.values()];
  }
  async save(record: AppRecord): Promise<void> {
    this.saves++;
    this.#records.set(record.name, record);
  }
  async remove(name: string): Promise<void> {
    this.#records.delete(name);
  }
}
