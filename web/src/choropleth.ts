// How the units look: filled by territory or by a choropleth of an attribute or a metrics-service figure, outlined
// when selected, changed against the compared scenario or locked; the legend, the layer toggles and the tooltip.

import type * as L from "leaflet";
import { WHITE_SPACE } from "./colouring";
import { $, fillSelect, legendNote } from "./dom";
import { type MapView, UNIT_FILL_OPACITY } from "./map";
import { classColour, classOf, DIVERGING, quantileBreaks, renderLegend, SEQUENTIAL, symmetricBreaks } from "./panel";
import type { Metrics } from "./services";
import type { MapState } from "./state";
import { unitTooltipHtml } from "./tooltips";

export class UnitStyles {
  /** "territory", "density", "attr:<name>" or "metric:<name>". */
  choropleth = "territory";
  breaks: number[] | null = null;
  /** The hierarchy levels of the territory outlines on the map (each has its toggle). */
  outlineLevels: number[] = [];

  constructor(
    private readonly state: MapState,
    private readonly view: MapView,
    private readonly metrics: Metrics,
  ) {
    $("choropleth").addEventListener("change", (e) => {
      this.choropleth = (e.target as HTMLSelectElement).value;
      this.restyle();
    });
  }

  readonly style = (unitId: string): L.PathOptions => {
    const { state } = this;
    const selected = state.selection.has(unitId);
    const changed = state.compared?.changed.has(unitId) ?? false;
    const locked = state.locked.has(unitId);
    return {
      fillColor: this.fillFor(unitId),
      fillOpacity: UNIT_FILL_OPACITY,
      color: selected ? "#ff006e" : changed ? "#d00000" : locked ? "#000" : "#ffffff",
      opacity: selected || changed || locked ? 1 : 0.5,
      weight: selected ? 2.5 : changed ? 2 : locked ? 1.5 : 0.4,
      dashArray: locked && !selected ? "3 2" : undefined,
    };
  };

  readonly tooltip = (unitId: string): string => {
    const { state } = this;
    const t = state.territories.find((x) => x.id === state.territoryOf.get(unitId));
    const props = state.unitProps.get(unitId) ?? {};
    return unitTooltipHtml(unitId, props, t, state.locked.has(unitId), (fips) => this.view.basemap.countyName(fips));
  };

  fillFor(unitId: string): string {
    const territory = this.state.territoryOf.get(unitId) ?? null;
    if (this.choropleth === "territory") return territory ? (this.state.colours.get(territory) ?? WHITE_SPACE) : WHITE_SPACE;
    const value = this.choroplethValue(unitId);
    if (value === null || !this.breaks) return WHITE_SPACE;
    const colours = this.choropleth.startsWith("metric:deviation") ? DIVERGING : SEQUENTIAL;
    return classColour(classOf(value, this.breaks), this.breaks, colours);
  }

  choroplethValue(unitId: string): number | null {
    const kind = this.choropleth;
    const props = this.state.unitProps.get(unitId);
    if (kind.startsWith("attr:")) {
      const v = props?.[kind.slice(5)];
      return typeof v === "number" ? v : null;
    }
    if (kind === "density") {
      const potential = props?.potential;
      const area = this.state.areas.get(unitId);
      return typeof potential === "number" && area ? potential / area : null;
    }
    if (kind.startsWith("metric:")) {
      const territory = this.state.territoryOf.get(unitId);
      const b = territory ? this.state.balance?.territories.get(territory) : undefined;
      const key = kind.slice(7);
      if (!b) return null;
      if (key === "deviation") return b.deviation_pct;
      if (key === "utilization" && b.metrics.utilization !== undefined) return b.metrics.utilization * 100;
      return b.metrics[key] ?? null;
    }
    return null;
  }

  /** Restyle these units (all when none are named; then the choropleth's classes and legend are redone too). */
  restyle(ids?: Iterable<string>): void {
    if (this.choropleth !== "territory" && !ids) {
      const values = [...this.state.unitProps.keys()].map((u) => this.choroplethValue(u)).filter((v): v is number => v !== null);
      // Deviation diverges around 0 (balanced): symmetric classes with the band in the neutral middle.
      const band = [...(this.state.balance?.territories.values() ?? [])][0]?.band_pct ?? 5;
      this.breaks = this.choropleth === "metric:deviation" ? symmetricBreaks(values, band) : quantileBreaks(values);
      const option = $<HTMLSelectElement>("choropleth").selectedOptions[0];
      const colours = this.choropleth.startsWith("metric:deviation") ? DIVERGING : SEQUENTIAL;
      renderLegend($("legend"), option?.textContent ?? "", this.breaks, colours, this.choropleth.startsWith("metric:") ? "%" : "");
    } else if (this.choropleth === "territory") {
      $("legend").replaceChildren(legendNote("Units coloured by territory; neighbours never share a colour. Grey: white space."));
    }
    this.view.restyle(this.style, ids);
  }

  /** Draw the territory outlines of the alignment on screen, a layer per hierarchy level. */
  drawOutlines(): void {
    const { state } = this;
    this.outlineLevels = this.view.setOutlines(
      (state.shapes?.features ?? []).map((f) => ({ id: String(f.id), level: state.depthOf(String(f.id)), feature: f })),
    );
  }

  renderToggles(): void {
    const el = $("layer-toggles");
    const names: [string, string][] = [["units", "Units"]];
    const deepest = Math.max(0, ...this.outlineLevels);
    for (const l of this.outlineLevels) names.push([`level-${l}`, l === deepest ? "Territory outlines" : `Level ${l + 1} outlines (${l === 0 ? "top" : "middle"})`]);
    names.push(["accounts", "Accounts"], ["reps", "Rep homes"]);
    const previous = new Map([...el.querySelectorAll("input")].map((i) => [i.name, i.checked]));
    el.replaceChildren(
      ...names.map(([name, label]) => {
        const wrap = document.createElement("label");
        const input = document.createElement("input");
        input.type = "checkbox";
        input.name = name;
        input.checked = previous.get(name) ?? true;
        const available = this.view.hasLayer(name);
        input.disabled = !available;
        input.addEventListener("change", () => this.view.toggle(name, input.checked));
        wrap.append(input, ` ${label}${available ? "" : " (not available)"}`);
        return wrap;
      }),
    );
  }

  fillChoroplethOptions(): void {
    const attrs = this.state.layer?.attributes ?? [];
    const options: [string, string][] = [["territory", "Territory"]];
    if (attrs.includes("potential")) options.push(["density", "Potential density (per km²)"]);
    for (const a of attrs) options.push([`attr:${a}`, a.replace(/_/g, " ")]);
    options.push(["metric:utilization", "Utilization, % (metrics-service)"], ["metric:deviation", "Deviation from target, % (metrics-service)"]);
    fillSelect($("choropleth"), options, this.choropleth);
    void this.metrics.available().then((ok) => {
      for (const o of $<HTMLSelectElement>("choropleth").options) if (o.value.startsWith("metric:")) o.disabled = !ok;
    });
  }
}
