import { h, replace } from "../dom.js";

/**
 * Asks for a token: the agent's dashboard link carries the read token, and
 * agent.json in the agent's state directory holds both (`readToken` to look,
 * `token` to act).
 */
export function renderTokenForm(main: HTMLElement, problem: string | undefined, onToken: (token: string) => void): void {
  const input = h("input", { type: "password", name: "token", autocomplete: "off", spellcheck: "false", placeholder: "token", required: true, "aria-label": "token" });
  const form = h(
    "form",
    {
      class: "token-form card",
      onsubmit: (event: Event) => {
        event.preventDefault();
        const token = input.value.trim();
        if (token) onToken(token);
      },
    },
    h("h1", null, "Paste a token"),
    h("p", null, "The dashboard reads the agent's API with a token. Open the link that ", h("code", null, "ferry agent"), " prints, or paste a token from ", h("code", null, "<state-dir>/agent.json"), ":"),
    h("ul", null, h("li", null, h("code", null, "readToken"), " to look (status, diffs, history)"), h("li", null, h("code", null, "token"), " to act as well (sync, refresh, rollback)")),
    problem ? h("p", { class: "error", role: "alert" }, problem) : null,
    h("div", { class: "row" }, input, h("button", { type: "submit" }, "Open the dashboard")),
    h("p", { class: "muted small" }, "The token is kept in this tab only (sessionStorage) and sent as a bearer header."),
  );
  replace(main, form);
  input.focus();
}
