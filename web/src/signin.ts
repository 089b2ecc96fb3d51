// The credentials the page sends: a token handed over in the URL fragment (`#token=...`, as the embedded mode
// prints it), kept in sessionStorage for this tab and removed from the address bar so it is not bookmarked or
// shared; otherwise a small form to paste one.

import { $ } from "./dom";

const KEY = "territory.token";

export function takeToken(): string | null {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const given = fragment.get("token");
  if (given) {
    sessionStorage.setItem(KEY, given);
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(KEY);
}

/** The tenant a JWT names (its `tenant` claim); empty for an API key or a token that cannot be read. */
export function tenantOf(token: string): string {
  try {
    const payload = token.split(".")[1] ?? "";
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const tenant = (JSON.parse(json) as { tenant?: unknown }).tenant;
    return typeof tenant === "string" ? tenant : "";
  } catch {
    return "";
  }
}

/** Show the sign-in form (with why, e.g. an expired token); a pasted token replaces the stored one. */
export function askForToken(reason: string): void {
  const form = $<HTMLFormElement>("signin");
  $("signin-reason").textContent = reason;
  form.hidden = false;
  $<HTMLInputElement>("signin-token").focus();
  form.onsubmit = (e) => {
    e.preventDefault();
    const token = $<HTMLInputElement>("signin-token").value.trim();
    if (!token) return;
    sessionStorage.setItem(KEY, token);
    location.reload();
  };
}
