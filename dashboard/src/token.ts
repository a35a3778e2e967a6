/**
 * The token lives in the URL's fragment (`#token=...`, which browsers never
 * send to the server) only until the page reads it; then in sessionStorage,
 * which ends with the tab.
 */
const KEY = "ferry.token";

/** Takes a token from `#token=...`, stores it and removes it from the address bar. */
export function takeTokenFromFragment(): string | undefined {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match?.[1]) return undefined;
  const token = decodeURIComponent(match[1]);
  saveToken(token);
  history.replaceState(null, "", `${location.pathname}${location.search}#/`);
  return token;
}

export function storedToken(): string | undefined {
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}
