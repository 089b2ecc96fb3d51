// Names on the map: territory names at each territory's pole of inaccessibility, in a pane above the units, and
// city names beside their dots, in a pane under the units (a base map's names, read through the units' light
// fill); neither pane takes a click. After each zoom or pan the labels of both are placed together
// greedily by priority and a label that would overlap one already placed is left out, so the map never shows
// two labels on top of each other and shows fewer as it zooms out.

import * as L from "leaflet";
import type { Feature } from "./api";
import { poleOfInaccessibility, ringArea } from "./polylabel";

export interface LabelSpec {
  id: string;
  kind: "territory" | "city";
  at: L.LatLng;
  text: string;
  /** Higher first. */
  priority: number;
  /** Not shown below this zoom. */
  minZoom?: number;
  /** A territory's extent: its label is shown only when it fits the territory's size on screen. */
  extent?: L.LatLngBounds;
}

export interface PlacedLabel {
  id: string;
  kind: string;
  text: string;
  lat: number;
  lon: number;
  left: number;
  top: number;
  right: number;
  bottom: number;
}

const FONT = { territory: "600 12px system-ui, sans-serif", city: "11px system-ui, sans-serif" };
const HEIGHT = { territory: 15, city: 13 };
const DOT = 5; // a city's dot, left of its name
const GAP = 3;

type Box = { left: number; top: number; right: number; bottom: number };

export class LabelLayer {
  private readonly pane: HTMLElement;
  private readonly basePane: HTMLElement;
  private readonly specs = new Map<string, LabelSpec[]>();
  private readonly elements = new Map<string, HTMLElement>();
  private readonly widths = new Map<string, number>();
  private readonly measure = document.createElement("canvas").getContext("2d");
  private placedNow: PlacedLabel[] = [];
  private frame = 0;

  constructor(private readonly map: L.Map) {
    this.pane = map.createPane("labels");
    // Above the units (overlay pane, 400) and the account bubbles (610), below tooltips (650): names stay readable.
    this.pane.style.zIndex = "620";
    this.pane.style.pointerEvents = "none";
    this.basePane = map.createPane("basemap-labels");
    // Above the state fill (250) and base-map lines (260), under the units (tiles 390, GeoJSON 400).
    this.basePane.style.zIndex = "270";
    this.basePane.style.pointerEvents = "none";
    map.on("zoomstart", () => {
      this.pane.style.visibility = "hidden";
      this.basePane.style.visibility = "hidden";
    });
    map.on("zoomend moveend resize", () => this.schedule());
  }

  /** Replace one group of labels ("territories", "cities"). */
  set(group: string, specs: LabelSpec[]): void {
    this.specs.set(group, specs);
    this.schedule();
  }

  /** The labels shown now, with their boxes in page pixels (for the tests). */
  placed(): PlacedLabel[] {
    return this.placedNow;
  }

  private schedule(): void {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => this.place());
  }

  private width(kind: LabelSpec["kind"], text: string): number {
    const key = `${kind}|${text}`;
    let w = this.widths.get(key);
    if (w === undefined) {
      if (this.measure) this.measure.font = FONT[kind];
      w = Math.ceil(this.measure ? this.measure.measureText(text).width : text.length * 7) + 4;
      this.widths.set(key, w);
    }
    return w;
  }

  private place(): void {
    const zoom = this.map.getZoom();
    const view = this.map.getBounds().pad(0.05);
    const size = this.map.getSize();
    const all = [...this.specs.values()].flat().filter((s) => (s.minZoom ?? 0) <= zoom && view.contains(s.at));
    all.sort((a, b) => b.priority - a.priority || a.id.localeCompare(b.id));
    const taken: Box[] = [];
    const shown = new Set<string>();
    const placed: PlacedLabel[] = [];
    const origin = this.map.getContainer().getBoundingClientRect();
    for (const s of all) {
      const w = this.width(s.kind, s.text);
      const h = HEIGHT[s.kind];
      const p = this.map.latLngToContainerPoint(s.at);
      if (s.extent) {
        const a = this.map.latLngToContainerPoint(s.extent.getNorthWest());
        const b = this.map.latLngToContainerPoint(s.extent.getSouthEast());
        // A territory too small on screen for its name keeps its colour and outline only.
        if (b.x - a.x < w * 0.9 || b.y - a.y < h * 1.6) continue;
      }
      const box: Box =
        s.kind === "city"
          ? { left: p.x - DOT / 2, top: p.y - h / 2, right: p.x + DOT + GAP + w, bottom: p.y + h / 2 }
          : { left: p.x - w / 2, top: p.y - h / 2, right: p.x + w / 2, bottom: p.y + h / 2 };
      if (box.left < 0 || box.top < 0 || box.right > size.x || box.bottom > size.y) continue;
      if (taken.some((t) => box.left < t.right + GAP && t.left < box.right + GAP && box.top < t.bottom && t.top < box.bottom)) continue;
      taken.push(box);
      shown.add(s.id);
      this.draw(s, w);
      placed.push({
        id: s.id,
        kind: s.kind,
        text: s.text,
        lat: s.at.lat,
        lon: s.at.lng,
        left: origin.left + box.left,
        top: origin.top + box.top,
        right: origin.left + box.right,
        bottom: origin.top + box.bottom,
      });
    }
    for (const [id, el] of this.elements) {
      if (!shown.has(id)) {
        el.remove();
        this.elements.delete(id);
      }
    }
    this.placedNow = placed;
    this.pane.style.visibility = "";
    this.basePane.style.visibility = "";
  }

  private draw(s: LabelSpec, width: number): void {
    let el = this.elements.get(s.id);
    if (!el) {
      el = document.createElement("div");
      el.className = `map-label ${s.kind}`;
      el.dataset.labelId = s.id;
      if (s.kind === "city") el.append(Object.assign(document.createElement("i"), { className: "dot" }));
      el.append(Object.assign(document.createElement("span"), { textContent: s.text }));
      (s.kind === "city" ? this.basePane : this.pane).append(el);
      this.elements.set(s.id, el);
    }
    const p = this.map.latLngToLayerPoint(s.at);
    const h = HEIGHT[s.kind];
    const offset = s.kind === "city" ? L.point(-DOT / 2, -h / 2) : L.point(-width / 2, -h / 2);
    L.DomUtil.setPosition(el, p.add(offset));
  }
}

/** A territory's label point: the pole of inaccessibility of its largest part, in a locally isotropic plane. */
export function labelPoint(feature: Feature): L.LatLng | null {
  const g = feature.geometry as { type: string; coordinates: unknown } | null;
  if (!g) return null;
  const polygons = (g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : []) as [number, number][][][];
  if (polygons.length === 0) return null;
  const lat0 = polygons[0][0][0]?.[1] ?? 0;
  const k = Math.cos((lat0 * Math.PI) / 180) || 1;
  const scaled = polygons.map((poly) => poly.map((ring) => ring.map(([x, y]) => [x * k, y] as [number, number])));
  let best = scaled[0];
  let bestArea = -1;
  for (const poly of scaled) {
    const area = Math.abs(ringArea(poly[0]));
    if (area > bestArea) {
      bestArea = area;
      best = poly;
    }
  }
  const xs = best[0].map((c) => c[0]);
  const ys = best[0].map((c) => c[1]);
  const extent = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
  const [x, y] = poleOfInaccessibility(best, extent / 100 || 1e-6);
  return L.latLng(y, x / k);
}
