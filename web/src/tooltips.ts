// What hovering a unit says: its name (the layer's own, else the county's from the base map's atlas) before its
// code, its territory by name, and its figures as short amounts.

import type { Territory } from "./api";
import { escapeHtml } from "./clusters";
import { formatAmount } from "./format";

export function unitName(unitId: string, props: Record<string, unknown>, countyName: (fips: string) => string | null): string | null {
  for (const key of ["name", "NAME", "unit_name", "label"]) {
    const v = props[key];
    if (typeof v === "string" && v.trim()) return v.trim();
  }
  return /^\d{5}$/.test(unitId) ? countyName(unitId) : null;
}

export function territoryText(t: Territory | undefined): string {
  if (!t) return "white space";
  return t.name && t.name !== t.code ? `${t.name} (${t.code})` : t.code;
}

export function unitTooltipHtml(
  unitId: string,
  props: Record<string, unknown>,
  territory: Territory | undefined,
  locked: boolean,
  countyName: (fips: string) => string | null,
): string {
  const name = unitName(unitId, props, countyName);
  const title = name ? `<b>${escapeHtml(name)}</b> <span class="unit-code">${escapeHtml(unitId)}</span>` : `<b>${escapeHtml(unitId)}</b>`;
  const facts = Object.entries(props)
    .filter(([k, v]) => k !== "unit_id" && typeof v === "number")
    .map(([k, v]) => `${escapeHtml(k.replace(/_/g, " "))}: ${formatAmount(v as number)}`)
    .join("<br>");
  return `${title}<br>Territory: ${escapeHtml(territoryText(territory))}${locked ? " (locked)" : ""}${facts ? `<br>${facts}` : ""}`;
}
