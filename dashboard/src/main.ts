import "./style.css";
import type { EngineEvent } from "../../src/engine/events.js";
import { Api, ApiError } from "./api.js";
import type { Context, View } from "./context.js";
import { h, replace } from "./dom.js";
import { forgetToken, saveToken, storedToken, takeTokenFromFragment } from "./token.js";
import { applicationsView } from "./views/applications.js";
import { applicationView } from "./views/application.js";
import { deploymentsView } from "./views/deployments.js";
import { pipelinesView } from "./views/pipelines.js";
import { renderTokenForm } from "./views/token-form.js";

const main = document.getElementById("main") as HTMLElement;
const live = document.getElementById("live") as HTMLElement;
const scopeLabel = document.getElementById("scope") as HTMLElement;
const forget = document.getElementById("forget") as HTMLButtonElement;

let session: { context: Context; stop: AbortController; follow: (query: string) => void } | undefined;
let cleanup: (() => void) | undefined;

/** Routes on the fragment: `#/`, `#/applications/<name>`, `#/deployments`, `#/pipelines`. */
function viewFor(hash: string): View {
  const path = hash.replace(/^#/, "") || "/";
  const app = /^\/applications\/(.+)$/.exec(path);
  if (app?.[1]) return applicationView(decodeURIComponent(app[1]));
  if (path === "/deployments") return deploymentsView;
  if (path === "/pipelines") return pipelinesView;
  return applicationsView;
}

/** The events a route shows: one application's page follows only that application. */
function eventQueryFor(hash: string): string {
  const app = /^\/applications\/(.+)$/.exec(hash.replace(/^#/, "") || "/");
  return app?.[1] ? new URLSearchParams({ application: decodeURIComponent(app[1]) }).toString() : "";
}

function route(): void {
  if (!session) return;
  cleanup?.();
  session.follow(eventQueryFor(location.hash));
  const path = location.hash.replace(/^#/, "") || "/";
  for (const link of document.querySelectorAll<HTMLAnchorElement>("nav a")) {
    const section = path.startsWith("/deployments") ? "deployments" : path.startsWith("/pipelines") ? "pipelines" : "applications";
    link.classList.toggle("active", link.dataset.nav === section);
  }
  main.replaceChildren();
  cleanup = viewFor(location.hash)(main, session.context);
  window.scrollTo(0, 0);
}

function askForToken(problem?: string): void {
  session?.stop.abort();
  session = undefined;
  cleanup?.();
  cleanup = undefined;
  document.body.classList.add("signed-out");
  setLive("offline");
  scopeLabel.textContent = "";
  forget.hidden = true;
  renderTokenForm(main, problem, (token) => {
    saveToken(token);
    void open(token);
  });
}

function setLive(state: "live" | "reconnecting" | "offline"): void {
  live.textContent = state === "live" ? "● live" : state === "reconnecting" ? "reconnecting…" : "offline";
  live.className = `live ${state}`;
}

/** Checks the token, then starts the live stream and the view of the current route. */
async function open(token: string): Promise<void> {
  session?.stop.abort();
  session = undefined;
  const api = new Api(token, () => {
    forgetToken();
    askForToken("The agent refused this token: it is wrong, or the agent was restarted with new tokens. Paste the current one.");
  });
  let scope: "admin" | "read";
  try {
    scope = (await api.session()).scope;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    replace(main, h("div", { class: "card error" }, `cannot reach the agent: ${(error as Error).message}`));
    return;
  }
  const eventListeners = new Set<(event: EngineEvent) => void>();
  const reconnectListeners = new Set<() => void>();
  const stop = new AbortController();
  const context: Context = {
    api,
    scope,
    onEvent: (listener) => (eventListeners.add(listener), () => eventListeners.delete(listener)),
    onReconnect: (listener) => (reconnectListeners.add(listener), () => reconnectListeners.delete(listener)),
  };
  let stream: { query: string; stop: AbortController } | undefined;
  // One stream at a time, filtered on the server for the current route; a new filter replaces it.
  const follow = (query: string): void => {
    if (stream?.query === query) return;
    stream?.stop.abort();
    const current = { query, stop: new AbortController() };
    stream = current;
    // Events before the stream connected are not replayed: the view reloads once it is (and after every break).
    stop.signal.addEventListener("abort", () => current.stop.abort());
    void api.followEvents(
      (event) => eventListeners.forEach((listener) => listener(event)),
      (connected) => {
        if (current.stop.signal.aborted) return;
        setLive(connected ? "live" : "reconnecting");
        if (connected) reconnectListeners.forEach((listener) => listener());
      },
      current.stop.signal,
      query,
    );
  };
  session = { context, stop, follow };
  document.body.classList.remove("signed-out");
  document.body.dataset.scope = scope;
  scopeLabel.textContent = scope === "admin" ? "admin token" : "read-only token";
  scopeLabel.title = scope === "admin" ? "this token may sync, refresh and roll back" : "this token may only look; paste the admin token to act";
  forget.hidden = false;
  route();
}

forget.addEventListener("click", () => {
  forgetToken();
  askForToken();
});
window.addEventListener("hashchange", () => {
  // A link with a new token (from `ferry agent`) replaces the one in use.
  const token = takeTokenFromFragment();
  if (token) void open(token);
  else route();
});

const token = takeTokenFromFragment() ?? storedToken();
if (token) void open(token);
else askForToken();
