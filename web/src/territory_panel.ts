// The territory list: the hierarchy of the alignment on screen with unit counts, metrics, quotas and a balance bar
// per territory (from metrics-service), the balance metric picker, and the move's target territory.

import type { Territory } from "./api";
import { WHITE_SPACE } from "./colouring";
import { $, errorText, fillSelect } from "./dom";
import type { MapView } from "./map";
import { balanceSourceText, PanelRow, renderTerritoryPanel } from "./panel";
import type { QuotaPanel } from "./quotas";
import type { Metrics } from "./services";
import type { MapState } from "./state";

export interface TerritoryPanelHost {
  state: MapState;
  view: MapView;
  metrics: Metrics;
  quotas: QuotaPanel;
  /** The balance changed: a choropleth of a metrics-service figure needs redrawing. */
  balanceChanged(): void;
  /** What the address bar shows changed (the balance metric). */
  viewChanged(): void;
}

export class TerritoryPanel {
  /** Why the balance bars may be behind or missing (empty: they are current). */
  balanceNote = "";

  constructor(private readonly host: TerritoryPanelHost) {
    $("balance-metric").addEventListener("change", (e) => {
      host.state.balanceMetric = (e.target as HTMLSelectElement).value;
      host.viewChanged();
      void this.refreshBalance();
    });
  }

  /** Balance from metrics-service; it learns of a move through events, so wait until it has seen our version. */
  async refreshBalance(): Promise<void> {
    const { state, metrics } = this.host;
    const alignment = state.current;
    if (!alignment) return;
    if (!(await metrics.available())) {
      state.balance = null;
      this.render();
      return;
    }
    const deadline = performance.now() + 10_000;
    this.balanceNote = "";
    try {
      for (;;) {
        const applied = await metrics.appliedVersion(alignment.id);
        if (applied === null || applied >= alignment.version) break;
        if (performance.now() > deadline) {
          this.balanceNote = "metrics-service has not caught up with the last edit yet: the bars may be behind.";
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      if (state.current === alignment) void this.host.quotas.refresh();
      const report = await metrics.balance(alignment.id, state.balanceMetric);
      if (state.current !== alignment) return;
      state.balance = report;
      if (report) state.balanceMetric = report.metric;
      fillSelect($("balance-metric"), (report?.metrics ?? []).map((m) => [m, m.replace(/_/g, " ")]), report?.metric ?? "");
      this.host.viewChanged();
    } catch (e) {
      this.balanceNote = `metrics-service: ${errorText(e)}`;
    }
    this.render();
    this.host.balanceChanged();
  }

  render(): void {
    const { state } = this.host;
    const leaves = state.leafIds();
    const counts = new Map<string, number>();
    for (const f of state.shapes?.features ?? []) counts.set(String(f.id), Number(f.properties.unit_count ?? 0));
    const ordered: Territory[] = [];
    const children = new Map<string | null, Territory[]>();
    for (const t of state.territories) {
      const key = t.parent_id ?? null;
      if (!children.has(key)) children.set(key, []);
      children.get(key)!.push(t);
    }
    const walk = (parent: string | null) => {
      for (const t of (children.get(parent) ?? []).sort((a, b) => a.code.localeCompare(b.code))) {
        ordered.push(t);
        walk(t.id);
      }
    };
    walk(null);
    const rows: PanelRow[] = ordered.map((t) => ({
      territory: t,
      depth: state.depthOf(t.id),
      isLeaf: leaves.has(t.id),
      colour: state.colours.get(t.id) ?? WHITE_SPACE,
      unitCount: counts.get(t.id) ?? 0,
      balance: state.balance?.territories.get(t.id),
      quota: this.host.quotas.byCode.get(t.code),
    }));
    renderTerritoryPanel($("territory-list"), rows, state.focusTerritory, (id) => this.focus(id));
    void this.host.metrics.available().then(
      (ok) => ($("balance-source").textContent = this.balanceNote || balanceSourceText(state.balance, ok)),
    );
  }

  focus(territoryId: string): void {
    const { state } = this.host;
    state.focusTerritory = territoryId;
    const feature = state.shapes?.features.find((f) => String(f.id) === territoryId) ?? null;
    this.host.view.highlightShape(feature);
    for (const li of $("territory-list").querySelectorAll("li"))
      li.classList.toggle("selected", (li as HTMLElement).dataset.territoryId === territoryId);
  }

  /** The leaf territories a move can go to, and white space. */
  fillTargetTerritories(): void {
    const { state } = this.host;
    const leaves = state.leafIds();
    const keep = $<HTMLSelectElement>("target-territory").value;
    const options: [string, string][] = state.territories
      .filter((t) => leaves.has(t.id))
      .sort((a, b) => a.code.localeCompare(b.code))
      .map((t) => [t.id, `${t.code}${t.name !== t.code ? ` · ${t.name}` : ""}`]);
    options.push(["", "(white space)"]);
    fillSelect($("target-territory"), options, keep || options[0]?.[0] || "");
  }
}
