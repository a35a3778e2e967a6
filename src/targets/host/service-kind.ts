import { rm } from "node:fs/promises";
import type { RenderedObject } from "../../core/objects.js";
import type { ApplyOutcome } from "../target.js";
import { parseHostSpec } from "./host-validate.js";
import type { HostEnvironment, KindHandler } from "./kind-handler.js";
import { assertOwner, nameOf, prepareToRun, resolveWorkingDir } from "./kind-handler.js";
import { fieldError } from "./host-validate.js";
import { splitHostId } from "./host-ids.js";
import type { MarkedProcess } from "./processes.js";
import { findMarkedProcesses, isAlive, stopProcessGroup } from "./processes.js";
import { recordMatches, sealDesired, secretEnvNames } from "./sealed-env.js";
import type { ServiceSupervisor, SupervisorDeps } from "./service-supervisor.js";
import { adoptService, launchService, processEnv } from "./service-supervisor.js";
import type { ServiceDesired, ServiceRecord } from "./service-state.js";
import { describeService, serviceComparable, serviceHealth } from "./service-state.js";

/** A record as found on disk: one written before secret values were sealed has no `sealedEnv` and a `digest`. */
type StoredServiceRecord = Omit<ServiceRecord, "sealedEnv"> & { readonly sealedEnv?: readonly string[]; readonly digest?: string };

/** How long an untracked process found at start gets to stop on SIGTERM before SIGKILL. */
const ORPHAN_GRACE_MS = 5000;

/** Timing of service supervision; the defaults suit an agent, tests shorten them. */
export interface ServiceTiming {
  readonly livenessPollMs: number;
  readonly backoffResetMs: number;
}

/** Handles `Service` objects: one supervisor per recorded service. */
export function createServiceHandler(env: HostEnvironment, timing: ServiceTiming): KindHandler {
  const supervisors = new Map<string, ServiceSupervisor>();
  const deps: SupervisorDeps = { store: env.store, notify: env.notify, stateId: env.stateId, ...timing };

  function desiredOf(object: RenderedObject): ServiceDesired {
    const spec = parseHostSpec("Service", object, env.root);
    const { workingDir, artifactDir } = resolveWorkingDir(env, spec, object);
    return describeService(spec, workingDir, artifactDir);
  }

  /** The supervisor whose record is exactly this spec (secret values included), if any. */
  function runningAs(name: string, desired: ServiceDesired): ServiceSupervisor | undefined {
    const supervisor = supervisors.get(name);
    return supervisor && recordMatches(desired, supervisor.record(), env.sealer) ? supervisor : undefined;
  }

  /**
   * The record with the process that really runs it: when the recorded one is
   * gone (or was never written: the agent was killed between the start and the
   * record), the newest live process marked with this service's name and owner
   * is taken as its own and recorded.
   */
  async function adoptMarked(record: StoredServiceRecord, marked: readonly MarkedProcess[]): Promise<StoredServiceRecord> {
    if (record.stopped || isAlive(record)) return record;
    const mine = marked.filter((p) => p.name === record.name && p.application === record.owner);
    const newest = mine.sort((a, b) => Number(b.startTime) - Number(a.startTime))[0];
    if (!newest) return record;
    const adopted = { ...record, pid: newest.pid, startTime: newest.startTime, startedAt: Date.now() };
    await env.store.write("Service", record.name, adopted);
    return adopted;
  }

  /**
   * After a new version failed to start: the previous process is started
   * again from its record (when its full env is known), or its record is put
   * back as it was (a new service leaves none). True when it runs again.
   */
  async function restorePrevious(name: string, record: ServiceRecord | undefined, previous: ServiceDesired | undefined): Promise<boolean> {
    if (!record) {
      await env.store.remove("Service", name);
      return false;
    }
    if (previous) {
      try {
        const base = { name, owner: record.owner, desired: record.desired, sealedEnv: record.sealedEnv };
        supervisors.set(name, await launchService(base, previous, deps));
        return true;
      } catch {
        // Reported with the failure of the new version; the record below keeps the old spec for the next apply.
      }
    }
    await env.store.write("Service", name, record);
    supervisors.set(name, adoptService(record, deps, previous?.env));
    return false;
  }

  /**
   * A service of this application that moves from the default namespace into
   * one (its Application's spec.namespace was set): the process there stops
   * first, so the one in the namespace can take its port, and its record goes.
   */
  async function leaveDefaultNamespace(id: string, application: string): Promise<void> {
    const { namespace, name } = splitHostId(id);
    const before = namespace === undefined ? undefined : supervisors.get(name);
    if (!before || before.record().owner !== application) return;
    await before.stop();
    supervisors.delete(name);
    await env.store.remove("Service", name);
  }

  return {
    async start() {
      const marked = (await findMarkedProcesses(env.stateId)).filter((p) => p.kind === "Service");
      for (const name of await env.store.list("Service")) {
        const found = await env.store.read<StoredServiceRecord>("Service", name);
        if (!found) continue;
        const record = await adoptMarked(found, marked);
        if (record.sealedEnv !== undefined) {
          supervisors.set(name, adoptService(record as ServiceRecord, deps));
          continue;
        }
        // Written before records sealed secret values: which variables are secret is not recorded, so every value is sealed.
        const { digest: _digest, ...rest } = record;
        const sealed = sealDesired(record.desired, Object.keys(record.desired.env), env.sealer);
        const migrated: ServiceRecord = { ...rest, desired: sealed.desired, sealedEnv: sealed.sealedEnv };
        await env.store.write("Service", name, migrated);
        supervisors.set(name, adoptService(migrated, deps, record.desired.env));
      }
      // Marked but recorded nowhere (its record was removed, or another copy ran beside the recorded one): nobody tracks it, so it stops.
      const tracked = new Set([...supervisors.values()].map((s) => `${s.record().pid}:${s.record().startTime}`));
      for (const orphan of marked) {
        if (!tracked.has(`${orphan.pid}:${orphan.startTime}`)) await stopProcessGroup(orphan, "SIGTERM", ORPHAN_GRACE_MS);
      }
    },

    async describe(object) {
      const desired = desiredOf(object);
      const name = nameOf(object);
      const recorded = runningAs(name, desired);
      // The record keeps no secret values: after an agent restart this is where the running spec's come back.
      if (recorded && !recorded.knowsEnv()) recorded.remember(desired);
      // Sealed as the record is (and as the object says), so an unchanged service compares equal to read().
      const names = [...secretEnvNames(object, desired.env), ...(supervisors.get(name)?.record().sealedEnv ?? [])];
      return serviceComparable(sealDesired(desired, names, env.sealer).desired, true);
    },

    async apply(object, context): Promise<ApplyOutcome> {
      const name = nameOf(object);
      const desired = desiredOf(object);
      // The artifact is fetched and checked before the running process is touched: a bad one leaves it running.
      await prepareToRun(env, object, desired, processEnv(desired.env));
      const sealed = sealDesired(desired, secretEnvNames(object, desired.env), env.sealer);
      const existing = supervisors.get(name);
      // An exit this apply would otherwise see first is the supervisor's to handle (and count toward its backoff).
      await existing?.settle();
      const record = existing?.record();
      assertOwner("Service", name, record?.owner, context.application);
      if (existing && record && !record.stopped && runningAs(name, desired)) {
        const phase = existing.snapshot().phase;
        // A service waiting out its restart backoff is left to its supervisor, so a crash loop is not hurried.
        if ((phase === "running" && isAlive(record)) || phase === "backoff") {
          existing.remember(desired);
          if (sealed.sealedEnv.join("\0") === record.sealedEnv.join("\0")) return "unchanged";
          // Which variables are secret changed, their values did not: the record changes, the process stays.
          await existing.reseal(sealed.desired, sealed.sealedEnv);
          return "configured";
        }
      }
      // Whatever validation and prepareToRun could check passed; a start can still fail (a race with the disk, a limit of the system).
      const previous = existing && record && !record.stopped ? existing.plainDesired() : undefined;
      if (existing) {
        await existing.stop();
        supervisors.delete(name);
      } else await leaveDefaultNamespace(name, context.application);
      let supervisor: ServiceSupervisor;
      try {
        supervisor = await launchService({ name, owner: context.application, desired: sealed.desired, sealedEnv: sealed.sealedEnv }, desired, deps);
      } catch (error) {
        const restored = await restorePrevious(name, record, previous);
        const reason = error instanceof Error ? error.message : String(error);
        const after = restored ? "; the previous version runs again" : record ? "; the previous version could not be started again" : "";
        throw fieldError("StartFailed", object, "/spec/command", `service ${name} could not be started: ${reason}${after}`, error);
      }
      supervisors.set(name, supervisor);
      if (desired.artifact || record?.desired.artifact) await env.collectArtifacts();
      return record ? "configured" : "created";
    },

    async read(name) {
      const supervisor = supervisors.get(name);
      if (!supervisor) return undefined;
      await supervisor.settle();
      const record = supervisor.record();
      const snapshot = supervisor.snapshot();
      // A service waiting out its backoff is down, but its supervisor restarts it: the engine reports it and leaves it be.
      const correcting = snapshot.phase === "backoff" ? { correcting: serviceHealth(snapshot).message } : {};
      return { state: serviceComparable(record.desired, snapshot.phase === "running" && isAlive(record)), owner: record.owner, ...correcting };
    },

    async owned(application) {
      return [...supervisors.values()].filter((s) => s.record().owner === application).map((s) => s.name);
    },

    async health(name) {
      const supervisor = supervisors.get(name);
      if (!supervisor) return { status: "Missing", message: `service ${name} has no process and no record` };
      // An exit seen here first is handed to the supervisor, so health says what it does about it.
      await supervisor.settle();
      return serviceHealth(supervisor.snapshot());
    },

    async delete(name, application) {
      const supervisor = supervisors.get(name);
      if (!supervisor || supervisor.record().owner !== application) return;
      await supervisor.stop();
      supervisors.delete(name);
      await env.store.remove("Service", name);
      await rm(env.store.logPath("Service", name), { force: true });
      await env.collectArtifacts();
    },

    async stopAll() {
      for (const [name, supervisor] of supervisors) {
        await supervisor.stop();
        await env.store.write("Service", name, { ...supervisor.record(), stopped: true });
      }
    },

    close() {
      for (const supervisor of supervisors.values()) supervisor.detach();
    },
  };
}
