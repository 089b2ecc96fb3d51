// One Leaflet map drawn entirely from the unit and territory layers (no base-map tiles: the platform runs offline),
// on a canvas renderer so that 3,000+ simplified polygons stay responsive.

import * as L from "leaflet";
import type { Feature } from "./api";
import { addStatesBackground } from "./background";
import { BaseMap } from "./basemap";
import { ClusterLayer, ClusterSource, escapeHtml } from "./clusters";
import { LabelLayer, labelPoint, LabelSpec } from "./labels";
import type { Point } from "./services";
import type { UnitTiles } from "./tiles";

export type UnitStyle = (unitId: string) => L.PathOptions;

export interface TerritoryOutline {
  id: string;
  level: number;
  feature: Feature;
}

const OUTLINE_WEIGHT = [3.5, 2.5, 1.6, 1.1];

/** How opaque a unit's fill is: light enough for the base map under the units (borders, cities) to show through. */
export const UNIT_FILL_OPACITY = 0.55;

export class MapView {
  readonly map: L.Map;
  private readonly renderer: L.Canvas;
  readonly units = new Map<string, L.Polygon>();
  private unitGroup: L.GeoJSON | null = null;
  private outlineGroups = new Map<number, L.GeoJSON>();
  private highlight: L.GeoJSON | null = null;
  private accounts: ClusterLayer | null = null;
  readonly labels: LabelLayer;
  readonly basemap: BaseMap;
  private reps: L.LayerGroup | null = null;
  private visible = new Map<string, boolean>();
  /** A big layer's units, drawn from vector tiles instead of GeoJSON; `centres` stands in for their shapes. */
  private tiled: UnitTiles | null = null;
  private centres = new Map<string, L.LatLng>();
  private tiledOutlineLevel = -1;

  constructor(
    element: HTMLElement,
    private readonly onUnitClick: (unitId: string, additive: boolean) => void,
  ) {
    this.renderer = L.canvas({ padding: 0.3, tolerance: 2 });
    this.map = L.map(element, {
      renderer: this.renderer,
      preferCanvas: true,
      attributionControl: true,
      boxZoom: false,
      zoomSnap: 0.25,
      keyboard: true,
      // There is no tile layer to set it, and clustering needs it (the plugin throws without one).
      minZoom: 2,
      maxZoom: 18,
    });
    this.map.attributionControl.setPrefix("Boundaries: US Census via us-atlas (public domain)");
    addStatesBackground(this.map);
    this.labels = new LabelLayer(this.map);
    this.basemap = new BaseMap(this.map, this.labels);
    this.map.setView([38, -96], 4);
  }

  setUnits(features: Feature[], style: UnitStyle): void {
    this.unitGroup?.remove();
    this.units.clear();
    this.tiled?.remove();
    this.tiled = null;
    this.unitGroup = L.geoJSON(features as unknown as GeoJSON.Feature[], {
      style: (f) => style(String(f?.properties?.unit_id ?? f?.id)),
      onEachFeature: (f, layer) => {
        const id = String(f.properties?.unit_id ?? f.id);
        this.units.set(id, layer as L.Polygon);
        layer.on("click", (e: L.LeafletMouseEvent) => {
          L.DomEvent.stopPropagation(e);
          this.onUnitClick(id, e.originalEvent.shiftKey || e.originalEvent.ctrlKey || e.originalEvent.metaKey);
        });
      },
    });
    if (this.visible.get("units") !== false) this.unitGroup.addTo(this.map);
  }

  /** Units drawn from vector tiles, with each unit's centre (lon, lat) for selection. */
  setTiledUnits(tiles: UnitTiles, centres: Map<string, [number, number]>): void {
    this.showTiles(tiles, new Map([...centres].map(([id, [lon, lat]]) => [id, L.latLng(lat, lon)])));
  }

  /** Each tiled unit's centre (lon, lat), for selection: they may arrive after the tiles start drawing. */
  setUnitCentres(centres: Map<string, [number, number]>): void {
    this.centres = new Map([...centres].map(([id, [lon, lat]]) => [id, L.latLng(lat, lon)]));
  }

  /** Units drawn from tiles of the layer `other` draws from tiles (a second map of it), at the same centres. */
  setTiledUnitsLike(other: MapView, tiles: UnitTiles): void {
    this.showTiles(tiles, other.centres);
  }

  private showTiles(tiles: UnitTiles, centres: Map<string, L.LatLng>): void {
    this.unitGroup?.remove();
    this.unitGroup = null;
    this.units.clear();
    this.tiled?.remove();
    this.tiled = tiles;
    this.centres = centres;
    if (this.visible.get("units") !== false) tiles.addTo(this.map);
  }

  tiles(): UnitTiles | null {
    return this.tiled;
  }

  unitCentre(id: string): L.LatLng | null {
    return this.tiled ? (this.centres.get(id) ?? null) : (this.units.get(id)?.getBounds().getCenter() ?? null);
  }

  restyle(style: UnitStyle, ids?: Iterable<string>): void {
    if (this.tiled) {
      this.tiled.setStyle(style);
      return this.tiled.restyle(ids);
    }
    for (const id of ids ?? this.units.keys()) this.units.get(id)?.setStyle(style(id));
  }

  setTooltip(text: (unitId: string) => string): void {
    this.tiled?.setTooltip(text);
    for (const [id, layer] of this.units) layer.bindTooltip(() => text(id), { sticky: true });
  }

  /** Territory outlines, one group per hierarchy level (0 = top); deeper levels are drawn thinner. */
  setOutlines(outlines: TerritoryOutline[]): number[] {
    for (const g of this.outlineGroups.values()) g.remove();
    this.outlineGroups.clear();
    const levels = [...new Set(outlines.map((o) => o.level))].sort((a, b) => b - a);
    const deepest = Math.max(0, ...levels);
    for (const level of levels) {
      // Tiled units draw the leaf territories' outlines themselves, from the borders in the tiles.
      const fromTiles = this.tiled !== null && level === deepest;
      if (fromTiles) this.tiledOutlineLevel = level;
      const features = fromTiles ? [] : outlines.filter((o) => o.level === level && o.feature.geometry).map((o) => o.feature);
      const weight = OUTLINE_WEIGHT[Math.min(OUTLINE_WEIGHT.length - 1, deepest - level === 0 ? 3 : level)];
      const group = L.geoJSON(features as unknown as GeoJSON.Feature[], {
        style: { color: level === deepest ? "#333" : "#111", weight, fill: false, interactive: false },
        interactive: false,
      });
      this.outlineGroups.set(level, group);
      if (this.visible.get(`level-${level}`) !== false) group.addTo(this.map);
    }
    this.labels.set("territories", territoryLabels(outlines.filter((o) => o.level === deepest)));
    return levels.sort((a, b) => a - b);
  }

  highlightShape(feature: Feature | null): void {
    this.highlight?.remove();
    this.highlight = null;
    if (!feature?.geometry) return;
    this.highlight = L.geoJSON(feature as unknown as GeoJSON.Feature, {
      style: { color: "#ff006e", weight: 4, fill: false, dashArray: "6 4", interactive: false },
      interactive: false,
    }).addTo(this.map);
    this.map.fitBounds(this.highlight.getBounds(), { padding: [24, 24], maxZoom: 9 });
  }

  /** Accounts as server-side clusters (null: the service offers none). */
  setAccounts(source: ClusterSource | null): void {
    this.accounts?.destroy();
    this.accounts = null;
    if (!source) return;
    this.accounts = new ClusterLayer(this.map, source);
    if (this.visible.get("accounts") !== false) this.accounts.addTo();
  }

  /** Accounts and rep homes drawn (accounts counted through their clusters), for the tests. */
  renderedPoints(): { accounts: number; reps: number } {
    return { accounts: this.accounts?.accounts() ?? 0, reps: this.reps?.getLayers().length ?? 0 };
  }

  clusters(): ClusterLayer | null {
    return this.accounts;
  }

  setReps(points: Point[] | null): void {
    this.reps?.remove();
    this.reps = null;
    if (!points || points.length === 0) return;
    this.reps = L.layerGroup(
      points.map((p) =>
        L.circleMarker([p.lat, p.lon], {
          renderer: this.renderer,
          radius: 6,
          color: "#fff",
          weight: 2,
          fillColor: "#111",
          fillOpacity: 1,
        }).bindTooltip(`Rep home: <b>${escapeHtml(p.label)}</b>`),
      ),
    );
    if (this.visible.get("reps") !== false) this.reps.addTo(this.map);
  }

  hasLayer(name: string): boolean {
    if (name === "accounts") return this.accounts !== null;
    if (name === "reps") return this.reps !== null;
    if (name === "units") return this.unitGroup !== null || this.tiled !== null;
    return this.outlineGroups.has(Number(name.replace("level-", "")));
  }

  toggle(name: string, on: boolean): void {
    this.visible.set(name, on);
    if (this.tiled && name === `level-${this.tiledOutlineLevel}`) this.tiled.showOutlines(on);
    if (this.tiled && name === "units") {
      if (on) this.tiled.addTo(this.map);
      else this.tiled.remove();
      return;
    }
    if (name === "accounts") {
      if (on) this.accounts?.addTo();
      else this.accounts?.remove();
      return;
    }
    const layer =
      name === "units" ? this.unitGroup
      : name === "reps" ? this.reps
      : this.outlineGroups.get(Number(name.replace("level-", "")));
    if (!layer) return;
    if (on) layer.addTo(this.map);
    else layer.remove();
  }

  fitUnits(): void {
    if (this.unitGroup && this.unitGroup.getLayers().length) this.map.fitBounds(this.unitGroup.getBounds());
  }

  /** Units drawn in the current view: the test hook's counterpart of MapLibre's queryRenderedFeatures. */
  renderedUnits(): string[] {
    if (this.tiled) {
      if (!this.map.hasLayer(this.tiled)) return [];
      const view = this.map.getBounds();
      const drawn = this.tiled.drawnUnits();
      return [...this.centres].filter(([id, c]) => drawn.has(id) && view.contains(c)).map(([id]) => id);
    }
    if (!this.unitGroup || !this.map.hasLayer(this.unitGroup)) return [];
    const view = this.map.getBounds();
    return [...this.units].filter(([, l]) => view.intersects(l.getBounds())).map(([id]) => id);
  }

  renderedOutlines(): { level: number; id: string }[] {
    const view = this.map.getBounds();
    const out: { level: number; id: string }[] = [];
    for (const [level, group] of this.outlineGroups) {
      if (!this.map.hasLayer(group)) continue;
      group.eachLayer((l) => {
        const f = (l as L.GeoJSON & { feature?: Feature }).feature;
        if (f && view.intersects((l as L.Polygon).getBounds())) out.push({ level, id: String(f.id) });
      });
    }
    return out;
  }

  /** Units whose centre lies inside a lon/lat polygon (box or lasso). */
  unitsInside(ring: L.LatLng[]): string[] {
    const bounds = L.latLngBounds(ring);
    const out: string[] = [];
    if (this.tiled) {
      for (const [id, c] of this.centres) if (bounds.contains(c) && insideRing(c, ring)) out.push(id);
      return out;
    }
    for (const [id, layer] of this.units) {
      const c = layer.getBounds().getCenter();
      if (bounds.contains(c) && insideRing(c, ring)) out.push(id);
    }
    return out;
  }
}

/** Leaf territories named at their pole of inaccessibility; a bigger territory wins a contested spot. */
function territoryLabels(outlines: TerritoryOutline[]): LabelSpec[] {
  const out: LabelSpec[] = [];
  for (const o of outlines) {
    const at = o.feature.geometry ? labelPoint(o.feature) : null;
    if (!at) continue;
    const extent = L.geoJSON(o.feature as unknown as GeoJSON.Feature).getBounds();
    const props = o.feature.properties;
    const name = String(props.name ?? props.code ?? o.id);
    const ne = extent.getNorthEast();
    const sw = extent.getSouthWest();
    out.push({
      id: `territory:${o.id}`,
      kind: "territory",
      at,
      text: name,
      priority: 1e12 + (ne.lat - sw.lat) * (ne.lng - sw.lng),
      extent,
    });
  }
  return out;
}

export function potentialColour(t: number): string {
  const stops = ["#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704"];
  return stops[Math.min(stops.length - 1, Math.floor(t * stops.length))];
}

function insideRing(p: L.LatLng, ring: L.LatLng[]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const a = ring[i];
    const b = ring[j];
    if (a.lat > p.lat !== b.lat > p.lat && p.lng < ((b.lng - a.lng) * (p.lat - a.lat)) / (b.lat - a.lat) + a.lng) {
      inside = !inside;
    }
  }
  return inside;
}

/** Box and lasso selection: drag on the map in a selection mode; the callback gets the drawn lon/lat ring. */
export class ShapeSelector {
  mode: "pan" | "box" | "lasso" = "pan";
  private points: L.LatLng[] = [];
  private shape: L.Polygon | null = null;

  constructor(
    private readonly view: MapView,
    private readonly onSelect: (ring: L.LatLng[], additive: boolean) => void,
  ) {
    const map = view.map;
    map.on("mousedown", (e: L.LeafletMouseEvent) => {
      if (this.mode === "pan") return;
      this.points = [e.latlng];
      this.shape = L.polygon([e.latlng], {
        color: "#ff006e",
        weight: 2,
        dashArray: "4 3",
        fillOpacity: 0.08,
        interactive: false,
      }).addTo(map);
    });
    map.on("mousemove", (e: L.LeafletMouseEvent) => {
      if (!this.shape) return;
      this.extend(e.latlng);
      this.shape.setLatLngs(this.ring());
    });
    map.on("mouseup", (e: L.LeafletMouseEvent) => {
      if (!this.shape) return;
      // The canvas renderer passes on at most one mousemove per 32 ms, so a quick drag's last moves may never
      // arrive: the point where the button is released closes the shape.
      this.extend(e.latlng);
      const ring = this.ring();
      this.shape.remove();
      this.shape = null;
      if (ring.length >= 3) this.onSelect(ring, e.originalEvent.shiftKey);
    });
  }

  setMode(mode: "pan" | "box" | "lasso"): void {
    this.mode = mode;
    const map = this.view.map;
    if (mode === "pan") map.dragging.enable();
    else map.dragging.disable();
    map.getContainer().style.cursor = mode === "pan" ? "" : "crosshair";
  }

  private extend(point: L.LatLng): void {
    if (this.mode === "box") this.points = [this.points[0], point];
    else if (!point.equals(this.points[this.points.length - 1])) this.points.push(point);
  }

  private ring(): L.LatLng[] {
    if (this.mode !== "box") return this.points;
    const [a, b] = this.points;
    if (!b) return [a];
    return [a, L.latLng(a.lat, b.lng), b, L.latLng(b.lat, a.lng)];
  }
}
