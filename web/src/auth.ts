// What the page can tell about a token without asking a service, and the words a person reads when a service
// refuses one. The services' 401 details are written for developers ("The bearer token is not a JWT: Not enough
// segments"); a planner needs to know whether to paste the link again or ask for a new one.

/** API keys start with this (territory_shared.api.api_key_store.KEY_PREFIX). */
const API_KEY_PREFIX = "tk_";

export const NOT_VALID =
  "This token is not valid: it may be mistyped, cut short or meant for another server. Paste the whole link or " +
  "token the platform gave you.";
export const EXPIRED = "Your token has expired: sign in again with a new one.";
export const NO_TOKEN = "The map needs an access token: the embedded mode prints a link with one when it starts.";

/** The roles that may change a draft (geo-service: moves, locks and publish are for designers). */
const EDITOR_ROLES = ["admin", "planner"];
/** The roles that may preview a publish (assignment-service's PREVIEWERS). */
const PREVIEW_ROLES = [...EDITOR_ROLES, "manager"];

export function isApiKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX);
}

/** The claims of a JWT, read without checking its signature (the services check it); null when it is not one. */
export function claimsOf(token: string): Record<string, unknown> | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const json = atob(parts[1].replace(/-/g, "+").replace(/_/g, "/"));
    const claims: unknown = JSON.parse(json);
    const header: unknown = JSON.parse(atob(parts[0].replace(/-/g, "+").replace(/_/g, "/")));
    if (!header || typeof header !== "object" || !claims || typeof claims !== "object") return null;
    return claims as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** Why a token cannot work, as far as the page can tell before sending it; null when it may. */
export function tokenProblem(token: string, nowS = Date.now() / 1000): string | null {
  if (isApiKey(token)) return /^tk_[A-Za-z0-9_-]{8,}$/.test(token) ? null : NOT_VALID;
  const claims = claimsOf(token);
  if (!claims) return NOT_VALID;
  // A minute's grace: the services allow for clocks that differ a little, and so does the page.
  if (typeof claims.exp === "number" && claims.exp + 60 < nowS) return EXPIRED;
  return null;
}

/** A service's reason for a 401, in words for the person at the screen. */
export function unauthorizedText(detail: string | undefined | null): string {
  const d = (detail ?? "").toLowerCase();
  if (d.includes("expired")) return EXPIRED;
  if (d.includes("no valid tenant") || d.includes("none of the roles") || d.includes("names the rep")) {
    return "This token does not say which tenant or role it is for: ask for a token for the map.";
  }
  if (d.includes("api key")) return "This API key is not valid (it may have been revoked): sign in with another.";
  if (d.includes("credentials are required")) return NO_TOKEN;
  return NOT_VALID;
}

/** What the signed-in caller may do in the map; the services have the last word. */
export interface Access {
  signedIn: boolean;
  /** Move, lock, undo, publish, create drafts, optimize. */
  edit: boolean;
  /** Preview what a publish would change. */
  preview: boolean;
}

export function accessOf(token: string | null, valid = true): Access {
  if (!token || !valid || tokenProblem(token) !== null) return { signedIn: false, edit: false, preview: false };
  // An API key's roles cannot be read here: offer the controls and let the services decide.
  if (isApiKey(token)) return { signedIn: true, edit: true, preview: true };
  const raw = claimsOf(token)?.roles;
  const roles = (Array.isArray(raw) ? raw : [raw]).filter((r): r is string => typeof r === "string");
  return {
    signedIn: true,
    edit: roles.some((r) => EDITOR_ROLES.includes(r)),
    preview: roles.some((r) => PREVIEW_ROLES.includes(r)),
  };
}
