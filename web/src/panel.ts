// The territory panel (metrics and a balance bar per territory against the target band) and the choropleth legend.

import type { Territory } from "./api";
import { formatAmount, formatChange, formatMetric, formatPercent } from "./format";
import type { QuotaFigure } from "./quotas";
import type { BalanceReport, TerritoryBalance } from "./services";

export interface PanelRow {
  territory: Territory;
  depth: number;
  isLeaf: boolean;
  colour: string;
  unitCount: number;
  balance: TerritoryBalance | undefined;
  quota?: QuotaFigure;
}

const SCALE_MAX_PCT = 200;

export function renderTerritoryPanel(
  list: HTMLOListElement,
  rows: PanelRow[],
  selected: string | null,
  onPick: (territoryId: string) => void,
): void {
  list.replaceChildren(
    ...rows.map((row) => {
      const li = document.createElement("li");
      li.className = `territory depth-${Math.min(row.depth, 3)}${row.isLeaf ? "" : " region"}`;
      li.dataset.territoryId = row.territory.id;
      li.dataset.code = row.territory.code;
      const status = row.balance?.status ?? null;
      if (status) li.dataset.status = status;
      if (row.territory.id === selected) li.classList.add("selected");

      const button = document.createElement("button");
      button.type = "button";
      button.className = "territory-name";
      button.setAttribute("aria-label", `Zoom to territory ${row.territory.code} ${row.territory.name}`);
      // A leaf's swatch is its colour on the map; a region has no colour of its own, so no swatch (an empty box
      // there reads as a checkbox).
      if (row.isLeaf) {
        const swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.background = row.colour;
        button.append(swatch);
      }
      const label = document.createElement("span");
      label.className = "territory-label";
      label.textContent = row.territory.code === row.territory.name ? row.territory.code : `${row.territory.code} · ${row.territory.name}`;
      button.append(label);
      button.addEventListener("click", () => onPick(row.territory.id));

      const facts = document.createElement("div");
      facts.className = "facts";
      const units = document.createElement("span");
      units.className = "unit-count";
      units.textContent = `${row.unitCount} units`;
      facts.append(units);
      if (row.balance) {
        for (const [k, v] of Object.entries(row.balance.metrics)) {
          if (["version", "alignment_version"].includes(k)) continue;
          const m = document.createElement("span");
          m.className = "metric";
          m.dataset.metric = k;
          m.textContent = `${k.replace(/_/g, " ")} ${formatMetric(k, v)}`;
          facts.append(m);
        }
      }
      if (row.quota) facts.append(quotaFact(row.quota));
      li.append(button, facts);
      if (row.balance && row.isLeaf) li.append(balanceBar(row.balance));
      if (status === "under" || status === "over") {
        const flag = document.createElement("span");
        flag.className = `flag ${status}`;
        flag.textContent = status === "under" ? "under-served" : "over-served";
        button.append(flag);
      }
      return li;
    }),
  );
}

/** "quota 3.1 M (+50 k, +1.6%)": the quota, and for a draft its change against the active alignment. */
function quotaFact(q: QuotaFigure): HTMLElement {
  const span = document.createElement("span");
  span.className = "quota";
  span.dataset.quota = String(q.quota);
  span.textContent = `quota ${formatAmount(q.quota)}`;
  if (q.change !== null) {
    span.dataset.change = String(q.change);
    const change = document.createElement("span");
    change.className = `quota-change ${q.change > 0 ? "up" : q.change < 0 ? "down" : "same"}`;
    const pct = q.before ? ` ${formatPercent(q.change / q.before, true)}` : "";
    change.textContent = q.change === 0 ? " (no change)" : ` (${formatChange(q.change)}${pct ? `,${pct}` : ""})`;
    span.append(change);
  }
  return span;
}

function balanceBar(b: TerritoryBalance): HTMLElement {
  const pct = b.deviation_pct !== null ? 100 + b.deviation_pct : b.value !== null && b.target ? (b.value / b.target) * 100 : null;
  const bar = document.createElement("div");
  bar.className = "balance-bar";
  bar.setAttribute("role", "meter");
  bar.setAttribute("aria-valuemin", "0");
  bar.setAttribute("aria-valuemax", String(SCALE_MAX_PCT));
  if (pct !== null) {
    bar.setAttribute("aria-valuenow", pct.toFixed(1));
    bar.dataset.pct = pct.toFixed(1);
  }
  bar.setAttribute("aria-label", `Balance: ${pct === null ? "unknown" : `${pct.toFixed(0)}% of target`}, band ±${b.band_pct}%`);
  // The track holds the band and the fill; the figure sits beside it, so a bar over 100% never runs under it.
  const track = document.createElement("div");
  track.className = "track";
  const band = document.createElement("div");
  band.className = "band";
  band.style.left = `${((100 - b.band_pct) / SCALE_MAX_PCT) * 100}%`;
  band.style.width = `${((2 * b.band_pct) / SCALE_MAX_PCT) * 100}%`;
  const fill = document.createElement("div");
  fill.className = `fill ${b.status ?? ""}`;
  fill.style.width = `${(Math.min(SCALE_MAX_PCT, Math.max(0, pct ?? 0)) / SCALE_MAX_PCT) * 100}%`;
  const value = document.createElement("span");
  value.className = "pct";
  value.textContent = pct === null ? "–" : `${pct.toFixed(0)}%`;
  track.append(band, fill);
  bar.append(track, value);
  return bar;
}

export function balanceSourceText(report: BalanceReport | null, available: boolean): string {
  if (!available) return "Balance bars appear when metrics-service answers for alignments (not available on this server).";
  if (!report) return "Loading balance from metrics-service…";
  const band = [...report.territories.values()][0]?.band_pct ?? 5;
  return `Balance of ${report.metric.replace(/_/g, " ")} against the target (${report.target === null ? "mean" : formatAmount(report.target)}) ±${band}%, from metrics-service. Red: under-served (too much for one territory); blue: over-served.`;
}

export function formatNumber(v: number): string {
  return formatAmount(v);
}

export const SEQUENTIAL = ["#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"];
export const DIVERGING = ["#2166ac", "#92c5de", "#f7f7f7", "#f4a582", "#b2182b"];

/** Quantile class breaks of the values (at most `classes` classes). */
export function quantileBreaks(values: number[], classes = 5): number[] {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const breaks: number[] = [];
  for (let i = 1; i < classes; i++) breaks.push(sorted[Math.floor((i / classes) * (sorted.length - 1))]);
  return [...new Set(breaks)];
}

/**
 * Breaks of a diverging scale symmetric around 0, five classes: the middle (neutral) class is the balance band
 * ±`band`, so 0% is always neutral and a sign never changes colour family; the outer breaks at ±the larger of twice
 * the band and the typical (median) deviation beyond it.
 */
export function symmetricBreaks(values: number[], band: number): number[] {
  const b1 = Math.max(0.1, band);
  const beyond = values.map((v) => Math.abs(v)).filter((v) => Number.isFinite(v) && v > b1).sort((a, b) => a - b);
  const typical = beyond.length ? beyond[Math.floor(beyond.length / 2)] : 0;
  const b2 = Math.max(2 * b1, Math.round(typical));
  // -b1 itself is within the band (a status is "over" only below it): nudge the break so it stays neutral.
  return [-b2, -b1 - 1e-9, b1, b2];
}

export function classOf(value: number, breaks: number[]): number {
  let i = 0;
  while (i < breaks.length && value > breaks[i]) i++;
  return i;
}

export function renderLegend(el: HTMLElement, title: string, breaks: number[], colours: string[], unit = ""): void {
  el.replaceChildren();
  const h = document.createElement("div");
  h.className = "legend-title";
  h.textContent = title;
  el.append(h);
  const edges = [-Infinity, ...breaks, Infinity];
  for (let i = 0; i < edges.length - 1; i++) {
    const row = document.createElement("div");
    row.className = "legend-row";
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = classColour(i, breaks, colours);
    const text = document.createElement("span");
    const lo = edges[i];
    const hi = edges[i + 1];
    text.textContent =
      lo === -Infinity ? `≤ ${formatNumber(hi)}${unit}` : hi === Infinity ? `> ${formatNumber(lo)}${unit}` : `${formatNumber(lo)} – ${formatNumber(hi)}${unit}`;
    if (lo < 0 && hi > 0 && Math.abs(lo + hi) < 1e-6) text.textContent = `±${formatNumber(hi)}${unit} (within the band)`;
    row.append(sw, text);
    el.append(row);
  }
}

export function classColour(index: number, breaks: number[], colours: string[]): string {
  const classes = breaks.length + 1;
  return colours[Math.min(colours.length - 1, Math.round((index * (colours.length - 1)) / Math.max(1, classes - 1)))];
}
