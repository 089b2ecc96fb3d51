// The credentials the page sends: a token handed over in the URL fragment (`#token=...`, as the embedded mode
// prints it), kept in sessionStorage for this tab and removed from the address bar so it is not bookmarked or
// shared; otherwise a small form to paste one.

import { claimsOf, NO_TOKEN, tokenProblem } from "./auth";
import { $ } from "./dom";
import { markSignedOut, useToken } from "./editing";

const KEY = "territory.token";

export function takeToken(): string | null {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const given = fragment.get("token");
  if (given) {
    sessionStorage.setItem(KEY, given);
    history.replaceState(null, "", location.pathname + location.search);
  }
  const token = sessionStorage.getItem(KEY);
  useToken(token);
  return token;
}

/** Take the token the page was given (see takeToken) and show the tenant it speaks for. */
export function signIn(): string | null {
  const token = takeToken();
  $<HTMLInputElement>("tenant").value = token ? tenantOf(token) : "";
  return token;
}

/** Whether the page has a token that may work; if not, the sign-in form asks for one and says why. */
export function tokenUsable(token: string | null): boolean {
  const problem = token ? tokenProblem(token) : NO_TOKEN;
  if (problem) askForToken(problem);
  return !problem;
}

/** The tenant a JWT names (its `tenant` claim); empty for an API key or a token that cannot be read. */
export function tenantOf(token: string): string {
  const tenant = claimsOf(token)?.tenant;
  return typeof tenant === "string" ? tenant : "";
}

/** Who the token speaks for: its subject and roles (null subject: an API key or a token that cannot be read). */
export interface SignedIn {
  subject: string | null;
  roles: string[];
}

export function signedIn(token: string | null): SignedIn {
  const claims = (token ? claimsOf(token) : null) ?? {};
  const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === "string") : [];
  return { subject: typeof claims.sub === "string" ? claims.sub : null, roles };
}

/**
 * Show the sign-in form with why (in plain words: auth.ts turns the services' reasons into them); editing is off
 * until a token that works is pasted, which replaces the stored one.
 */
export function askForToken(reason: string): void {
  markSignedOut();
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
