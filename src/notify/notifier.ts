import type { Notification } from "../config/notification.js";
import type { EngineListener } from "../engine/events.js";
import type { Alert } from "./alerts.js";
import type { PromotionRecord } from "../promote/promotion-state.js";
import { alertsOf, promotionAlertOf, slackBody, webhookBody } from "./alerts.js";

/** How a notifier sends and what it tolerates. */
export interface NotifierOptions {
  readonly agent: string;
  /** Where `urlFrom.env` is read. */
  readonly env?: NodeJS.ProcessEnv;
  /** The same alert (notification, event, application, revision, reason; pipeline, environment, version) is sent once in this window. */
  readonly dedupeMs?: number;
  readonly attempts?: number;
  readonly timeoutMs?: number;
  /** Delay before the second attempt; doubled each time. */
  readonly retryDelayMs?: number;
  /** Alerts waiting beyond this are dropped, oldest first, and said so. */
  readonly maxQueue?: number;
  readonly now?: () => Date;
  readonly log?: (message: string) => void;
}

/** One endpoint's queue, and the run that works through it while there is one. */
interface Lane {
  readonly queue: Delivery[];
  running?: Promise<void>;
}

interface Delivery {
  readonly notification: Notification;
  readonly alert: Alert;
}

/**
 * Sends alerts to the endpoints of the configuration's Notification documents.
 * It never blocks the reconcile loop: alerts queue and are sent in the
 * background, each endpoint in its own lane, so an endpoint that hangs or
 * fails delays nothing else; failures are retried with backoff, then logged.
 */
export class Notifier {
  readonly #options: NotifierOptions;
  #notifications: readonly Notification[] = [];
  readonly #health = new Map<string, string>();
  readonly #sent = new Map<string, number>();
  readonly #lanes = new Map<string, Lane>();
  #closed = false;

  constructor(options: NotifierOptions) {
    this.#options = options;
  }

  /** The notifications of the configuration in use. */
  configure(notifications: readonly Notification[]): void {
    this.#notifications = notifications;
  }

  /** Subscribe this to the engine. */
  readonly listener: EngineListener = (event) => {
    const alerts = alertsOf(event, (app) => this.#health.get(app), this.#now());
    if (event.type === "StatusChanged") this.#health.set(event.application, event.status.health.status);
    for (const alert of alerts) this.alert(alert);
  };

  /** A promotion step entered a new phase: alerts when it waits for approval, passed or failed. */
  promotion(record: PromotionRecord, index: number): void {
    const alert = promotionAlertOf(record, index, this.#now());
    if (alert) this.alert(alert);
  }

  /** Queues an alert for every notification that wants it. */
  alert(alert: Alert): void {
    if (this.#closed) return;
    for (const notification of this.#notifications) {
      if (!notification.events.includes(alert.event)) continue;
      if (notification.applications && !notification.applications.includes(alert.application)) continue;
      const key = [notification.name, alert.event, alert.application, alert.revision ?? "", alert.reason, alert.pipeline ?? "", alert.environment ?? "", alert.version ?? ""].join("\0");
      const now = this.#now().getTime();
      const last = this.#sent.get(key);
      if (last !== undefined && now - last < (this.#options.dedupeMs ?? 10 * 60_000)) continue;
      this.#sent.set(key, now);
      this.#enqueue({ notification, alert });
    }
  }

  /** Resolves when every queued alert was sent or given up on. */
  async drain(): Promise<void> {
    for (let running = this.#running(); running.length > 0; running = this.#running()) await Promise.all(running);
  }

  /** Stops taking alerts; what is queued is dropped. */
  close(): void {
    this.#closed = true;
    for (const lane of this.#lanes.values()) lane.queue.length = 0;
  }

  #enqueue(delivery: Delivery): void {
    const laneKey = delivery.notification.name;
    let lane = this.#lanes.get(laneKey);
    if (!lane) {
      lane = { queue: [] };
      this.#lanes.set(laneKey, lane);
    }
    lane.queue.push(delivery);
    const max = this.#options.maxQueue ?? 1000;
    if (lane.queue.length > max) {
      lane.queue.splice(0, lane.queue.length - max);
      this.#log(`notification ${laneKey}: more than ${max} alerts waiting; the oldest were dropped`);
    }
    lane.running ??= this.#run(lane);
  }

  async #run(lane: Lane): Promise<void> {
    try {
      for (let delivery = lane.queue.shift(); delivery; delivery = lane.queue.shift()) await this.#deliver(delivery);
    } finally {
      lane.running = undefined;
    }
  }

  #running(): Promise<void>[] {
    return [...this.#lanes.values()].flatMap((l) => (l.running ? [l.running] : []));
  }

  async #deliver({ notification, alert }: Delivery): Promise<void> {
    const url = this.#urlOf(notification);
    if (!url) return;
    const body = JSON.stringify(notification.type === "slack" ? slackBody(alert, this.#options.agent) : webhookBody(alert, this.#options.agent));
    const attempts = this.#options.attempts ?? 5;
    let delay = this.#options.retryDelayMs ?? 1000;
    let problem = "";
    for (let attempt = 1; attempt <= attempts && !this.#closed; attempt++) {
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", "user-agent": "ferry" },
          body,
          signal: AbortSignal.timeout(this.#options.timeoutMs ?? 5000),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return;
        problem = `answered ${res.status}`;
        // A client error will not go away by retrying, except being asked to slow down.
        if (res.status < 500 && res.status !== 429) break;
      } catch (error) {
        problem = (error as Error).message;
      }
      if (attempt < attempts) {
        await new Promise((r) => setTimeout(r, delay));
        delay *= 2;
      }
    }
    this.#log(`notification ${notification.name}: could not send ${alert.event} of ${alert.application} to ${originOf(url)}: ${problem}`);
  }

  #urlOf(notification: Notification): string | undefined {
    if ("url" in notification.target) return notification.target.url;
    const url = (this.#options.env ?? process.env)[notification.target.env];
    if (!url) this.#log(`notification ${notification.name}: environment variable ${notification.target.env} is not set; alert not sent`);
    return url || undefined;
  }

  #now(): Date {
    return (this.#options.now ?? (() => new Date()))();
  }

  #log(message: string): void {
    (this.#options.log ?? console.error)(message);
  }
}

/** Scheme, host and port only: webhook URLs often carry their token in the path. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "an invalid URL";
  }
}
