// Small DOM helpers shared by the page's modules.

import { ApiError } from "./api";

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
  if (e instanceof ApiError) {
    const fields = (e.problem.errors ?? []).map((x) => `${x.field ?? ""}: ${x.reason ?? ""}`).join("; ");
    return `${e.problem.title ?? "Error"} (${e.status}): ${e.problem.detail ?? ""}${fields ? ` [${fields}]` : ""}`;
  }
  return e instanceof Error ? e.message : String(e);
}
