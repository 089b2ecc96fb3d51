// Small DOM helpers shared by the page's modules.

import { ApiError } from "./api";
import { unauthorizedText } from "./auth";

export const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

export function fillSelect(select: HTMLSelectElement, options: [string, string][], selected: string): void {
  select.replaceChildren(
    ...options.map(([value, label]) => {
      const o = document.createElement("option");
      o.value = value;
      o.textContent = label;
      o.selected = value === selected;
      return o;
    }),
  );
}

export function legendNote(text: string): HTMLElement {
  const p = document.createElement("p");
  p.className = "hint";
  p.textContent = text;
  return p;
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError && e.status === 401) return `Not signed in. ${unauthorizedText(e.problem.detail)}`;
  if (e instanceof ApiError) {
    const fields = (e.problem.errors ?? []).map((x) => `${x.field ?? ""}: ${x.reason ?? ""}`).join("; ");
    return `${e.problem.title ?? "Error"} (${e.status}): ${e.problem.detail ?? ""}${fields ? ` [${fields}]` : ""}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/** An element with attributes (`class`, `id`, `data-*`, ...) and children: small panels built in code read as markup. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | boolean | undefined> = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === "hidden") el.hidden = true;
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}
