// Units drawn from geo-service's vector tiles (one canvas per tile), for layers too big for GeoJSON (ZIP areas).
// Tiles carry shapes and unit ids only: colours come from the style function, so a recolour or a move redraws the
// tiles that hold the changed units from memory, with nothing fetched again. Shared borders are shared vertices in
// the tiles, so territory outlines are drawn from the same tiles: the segments between units of different
// territories, which therefore always line up with the fills.

import { VectorTile } from "@mapbox/vector-tile";
import * as L from "leaflet";
import { PbfReader } from "pbf";
import type { Api } from "./api";
import { UNIT_FILL_OPACITY } from "./map";

/** Layers with more units than this are drawn from tiles; smaller ones keep the GeoJSON path. */
export const TILED_UNITS = 5_000;

/** Tiles or GeoJSON for a layer of `unitCount` units; `?tiles=on` or `?tiles=off` in the page's address decides. */
export function drawFromTiles(unitCount: number): boolean {
  const asked = new URLSearchParams(location.search).get("tiles");
  return asked === "on" || (asked !== "off" && unitCount > TILED_UNITS);
}

export type TileUnitStyle = (unitId: string) => L.PathOptions;

interface TileFeature {
  id: string;
  rings: Int16Array[]; // x0, y0, x1, y1, ... in the tile's grid
  bbox: [number, number, number, number];
  path: Path2D | null;
}

/** A tile's shapes as decoded, which two maps of the same layer can share. */
interface TileShapes {
  extent: number;
  features: TileFeature[];
  ids: Set<string>;
  // Each border segment once: the units on either side (b = -1: a unit's edge with nothing beyond).
  edgeA: Int32Array;
  edgeB: Int32Array;
  edgeXY: Int16Array;
}

interface TileData extends TileShapes {
  canvas: HTMLCanvasElement;
}

const OUTLINE = { color: "#222", weight: 1.6 };

export class UnitTiles extends L.GridLayer {
  private readonly loaded = new Map<string, TileData>();
  private style: TileUnitStyle;
  private outlinesOn = true;
  private pending = 0;
  private tooltip: L.Tooltip | null = null;
  private tooltipText: ((unitId: string) => string) | null = null;
  private lastMove = 0;
  /** The tiles of the same layer drawn on another map: a tile it holds is drawn from memory, not fetched again. */
  private source: UnitTiles | null = null;
  drawnFeatures = 0;
  tilesFetched = 0;

  constructor(
    private readonly api: Api,
    private readonly layerId: string,
    style: TileUnitStyle,
    private readonly territoryOf: (unitId: string) => string | null,
    private readonly onUnitClick: (unitId: string, additive: boolean) => void,
  ) {
    // In a pane of their own: above the base map (the background at 250, its borders at 260 and city names at 270),
    // just under the GeoJSON units' overlay pane (400).
    super({ tileSize: 256, keepBuffer: 2, updateWhenZooming: false, updateInterval: 100, pane: "unit-tiles" });
    this.style = style;
    this.on("tileunload", (e: L.TileEvent) => this.loaded.delete(this.keyOf(e.coords)));
  }

  onAdd(map: L.Map): this {
    if (!map.getPane("unit-tiles")) {
      const pane = map.createPane("unit-tiles");
      pane.style.zIndex = "390";
      pane.style.pointerEvents = "none"; // clicks reach the map, which finds the unit in the tile under them
    }
    super.onAdd(map);
    map.on("click", this.click, this);
    map.on("mousemove", this.hover, this);
    map.on("mouseout", this.hideTooltip, this);
    return this;
  }

  onRemove(map: L.Map): this {
    map.off("click", this.click, this);
    map.off("mousemove", this.hover, this);
    map.off("mouseout", this.hideTooltip, this);
    this.hideTooltip();
    super.onRemove(map);
    return this;
  }

  protected createTile(coords: L.Coords, done: L.DoneCallback): HTMLElement {
    const canvas = L.DomUtil.create("canvas", "leaflet-tile") as HTMLCanvasElement;
    const size = this.getTileSize();
    canvas.width = size.x;
    canvas.height = size.y;
    const key = this.keyOf(coords);
    const held = this.source?.loaded.get(key);
    this.pending++;
    // Leaflet wants `done` called after createTile returns, even for a tile held in memory.
    const shapes = held ? Promise.resolve(held) : this.fetchTile(coords);
    shapes
      .then((shape) => {
        if (shape) {
          const data: TileData = { ...shape, canvas };
          this.loaded.set(key, data);
          this.draw(data);
        }
        done(undefined, canvas);
      })
      .catch((e: unknown) => done(e instanceof Error ? e : new Error(String(e)), canvas))
      .finally(() => this.pending--);
    return canvas;
  }

  private async fetchTile(coords: L.Coords): Promise<TileShapes | null> {
    const buffer = await this.api.tile(this.layerId, coords.z, coords.x, coords.y);
    this.tilesFetched++;
    return buffer ? decodeTile(buffer) : null;
  }

  /**
   * The same layer's tiles for a second map (the compared alignment's): its own colours and territory outlines,
   * no clicks, and the tiles this layer holds drawn from memory.
   */
  sibling(style: TileUnitStyle, territoryOf: (unitId: string) => string | null): UnitTiles {
    const tiles = new UnitTiles(this.api, this.layerId, style, territoryOf, () => undefined);
    tiles.source = this;
    return tiles;
  }

  /** Tiles still being fetched (0: the view is drawn). */
  loading(): number {
    return this.pending;
  }

  setStyle(style: TileUnitStyle): void {
    this.style = style;
  }

  setTooltip(text: (unitId: string) => string): void {
    this.tooltipText = text;
  }

  showOutlines(on: boolean): void {
    this.outlinesOn = on;
    this.restyle();
  }

  /** Redraw the tiles holding any of `ids` (every tile when omitted), from the features in memory. */
  restyle(ids?: Iterable<string>): void {
    const wanted = ids ? new Set(ids) : null;
    for (const data of this.loaded.values()) {
      if (wanted && ![...wanted].some((id) => data.ids.has(id))) continue;
      this.draw(data);
    }
  }

  private draw(data: TileData): void {
    const ctx = data.canvas.getContext("2d")!;
    const scale = data.canvas.width / data.extent;
    const zoom = this._map?.getZoom() ?? 0;
    ctx.clearRect(0, 0, data.canvas.width, data.canvas.height);
    ctx.save();
    ctx.scale(scale, scale);
    ctx.lineJoin = "round";
    const styles = data.features.map((f) => this.style(f.id));
    const emphasised: number[] = [];
    for (let i = 0; i < data.features.length; i++) {
      const f = data.features[i];
      const s = styles[i];
      f.path ??= pathOf(f.rings);
      ctx.globalAlpha = s.fillOpacity ?? UNIT_FILL_OPACITY;
      ctx.fillStyle = s.fillColor ?? "#ccc";
      ctx.fill(f.path, "evenodd");
      if ((s.weight ?? 0) >= 1) emphasised.push(i);
    }
    // Hairline borders only where the units are big enough to see them.
    if (zoom >= 7) {
      for (let i = 0; i < data.features.length; i++) {
        const s = styles[i];
        if ((s.weight ?? 0) >= 1) continue;
        ctx.globalAlpha = s.opacity ?? 0.5;
        ctx.strokeStyle = s.color ?? "#fff";
        ctx.lineWidth = (s.weight ?? 0.4) / scale;
        ctx.stroke(data.features[i].path!);
      }
    }
    if (this.outlinesOn) this.drawOutlines(ctx, data, scale);
    // Selected, changed and locked units last, so that no neighbour's fill covers their border.
    for (const i of emphasised) {
      const s = styles[i];
      ctx.globalAlpha = s.opacity ?? 1;
      ctx.strokeStyle = s.color ?? "#ff006e";
      ctx.lineWidth = (s.weight ?? 1) / scale;
      ctx.setLineDash(s.dashArray ? String(s.dashArray).split(/[ ,]+/).map((v) => Number(v) / scale) : []);
      ctx.stroke(data.features[i].path!);
    }
    ctx.restore();
    this.drawnFeatures += data.features.length;
  }

  private drawOutlines(ctx: CanvasRenderingContext2D, data: TileData, scale: number): void {
    const territory = data.features.map((f) => this.territoryOf(f.id));
    ctx.globalAlpha = 1;
    ctx.setLineDash([]);
    ctx.strokeStyle = OUTLINE.color;
    ctx.lineWidth = OUTLINE.weight / scale;
    ctx.lineCap = "round";
    ctx.beginPath();
    for (let e = 0; e < data.edgeA.length; e++) {
      const a = territory[data.edgeA[e]];
      const b = data.edgeB[e] < 0 ? null : territory[data.edgeB[e]];
      if (a === b) continue;
      ctx.moveTo(data.edgeXY[4 * e], data.edgeXY[4 * e + 1]);
      ctx.lineTo(data.edgeXY[4 * e + 2], data.edgeXY[4 * e + 3]);
    }
    ctx.stroke();
  }

  /** Border segments drawn as territory outlines in the loaded tiles (for the tests). */
  outlineSegments(): number {
    let n = 0;
    for (const data of this.loaded.values()) {
      const territory = data.features.map((f) => this.territoryOf(f.id));
      for (let e = 0; e < data.edgeA.length; e++) {
        if (data.edgeB[e] >= 0 && territory[data.edgeA[e]] !== territory[data.edgeB[e]]) n++;
      }
    }
    return n;
  }

  /** Neighbouring units in the loaded tiles and the vertices they share (for the tests). */
  sharedBorders(): { pairs: number; unmatched: number } {
    let pairs = 0;
    let unmatched = 0;
    for (const data of this.loaded.values()) {
      const inner = (v: number) => v > 0 && v < data.extent;
      for (let e = 0; e < data.edgeA.length; e++) {
        if (data.edgeB[e] >= 0) pairs++;
        else if ([0, 1, 2, 3].every((k) => inner(data.edgeXY[4 * e + k]))) unmatched++;
      }
    }
    return { pairs, unmatched };
  }

  /** The unit drawn at a point, if any. */
  unitAt(latlng: L.LatLng): string | null {
    const map = this._map;
    if (!map) return null;
    const z = Math.round(map.getZoom());
    const size = this.getTileSize();
    const p = map.project(latlng, z);
    const tx = Math.floor(p.x / size.x);
    const ty = Math.floor(p.y / size.y);
    const data = this.loaded.get(`${tx}:${ty}:${z}`);
    if (!data) return null;
    const gx = ((p.x - tx * size.x) / size.x) * data.extent;
    const gy = ((p.y - ty * size.y) / size.y) * data.extent;
    for (let i = data.features.length - 1; i >= 0; i--) {
      const f = data.features[i];
      const [x0, y0, x1, y1] = f.bbox;
      if (gx < x0 || gx > x1 || gy < y0 || gy > y1) continue;
      if (insideRings(gx, gy, f.rings)) return f.id;
    }
    return null;
  }

  /** Per tile drawn: the area its units cover and the area of the rectangle they were clipped to (grid units). */
  coverage(): { tile: string; covered: number; clip: number }[] {
    const out: { tile: string; covered: number; clip: number }[] = [];
    for (const [key, data] of this.loaded) {
      let covered = 0;
      let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
      for (const f of data.features) {
        for (const r of f.rings) {
          let twice = 0;
          for (let i = 0, j = r.length / 2 - 1; i < r.length / 2; j = i++) {
            twice += r[2 * j] * r[2 * i + 1] - r[2 * i] * r[2 * j + 1];
          }
          covered += twice / 2; // rings of a polygon wind opposite ways: holes subtract
        }
        [x0, y0] = [Math.min(x0, f.bbox[0]), Math.min(y0, f.bbox[1])];
        [x1, y1] = [Math.max(x1, f.bbox[2]), Math.max(y1, f.bbox[3])];
      }
      out.push({ tile: key, covered: Math.abs(covered), clip: (x1 - x0) * (y1 - y0) });
    }
    return out;
  }

  /** Ids of the units in the tiles drawn now. */
  drawnUnits(): Set<string> {
    const out = new Set<string>();
    for (const data of this.loaded.values()) for (const id of data.ids) out.add(id);
    return out;
  }

  private click(e: L.LeafletMouseEvent): void {
    const id = this.unitAt(e.latlng);
    if (!id) return;
    const o = e.originalEvent;
    this.onUnitClick(id, o.shiftKey || o.ctrlKey || o.metaKey);
  }

  private hover(e: L.LeafletMouseEvent): void {
    if (!this.tooltipText || !this._map) return;
    const now = performance.now();
    if (now - this.lastMove < 50) return;
    this.lastMove = now;
    const id = this.unitAt(e.latlng);
    if (!id) return this.hideTooltip();
    this.tooltip ??= L.tooltip({ sticky: true, direction: "auto" });
    this.tooltip.setLatLng(e.latlng).setContent(this.tooltipText(id));
    if (!this._map.hasLayer(this.tooltip)) this.tooltip.addTo(this._map);
  }

  private hideTooltip(): void {
    this.tooltip?.remove();
  }

  private keyOf(coords: L.Coords): string {
    return `${coords.x}:${coords.y}:${coords.z}`;
  }
}

function decodeTile(buffer: ArrayBuffer): TileShapes {
  const layer = new VectorTile(new PbfReader(buffer)).layers.units;
  const features: TileFeature[] = [];
  const extent = layer?.extent ?? 4096;
  for (let i = 0; i < (layer?.length ?? 0); i++) {
    const f = layer.feature(i);
    const rings = f.loadGeometry().map((ring) => {
      const out = new Int16Array(ring.length * 2);
      ring.forEach((p, k) => {
        out[2 * k] = p.x;
        out[2 * k + 1] = p.y;
      });
      return out;
    });
    const bbox = f.bbox() as [number, number, number, number];
    features.push({ id: String(f.properties.unit_id), rings, bbox, path: null });
  }
  return { extent, features, ids: new Set(features.map((f) => f.id)), ...borders(features) };
}

/** Every border segment once, with the units on either side: neighbours share the vertices of their border. */
function borders(features: TileFeature[]): { edgeA: Int32Array; edgeB: Int32Array; edgeXY: Int16Array } {
  const owner = new Map<number, number>();
  const a: number[] = [];
  const b: number[] = [];
  const xy: number[] = [];
  const edgeOf = new Map<number, number>();
  // Grid coordinates (buffer included) fit in 13 bits after the offset: a segment packs into one safe integer.
  const point = (x: number, y: number) => (x + 512) * 8192 + (y + 512);
  features.forEach((f, i) => {
    for (const ring of f.rings) {
      const n = ring.length / 2;
      for (let k = 0; k < n; k++) {
        const j = (k + 1) % n;
        const p = point(ring[2 * k], ring[2 * k + 1]);
        const q = point(ring[2 * j], ring[2 * j + 1]);
        if (p === q) continue;
        const key = p < q ? p * 67108864 + q : q * 67108864 + p;
        const first = owner.get(key);
        if (first === undefined) {
          owner.set(key, i);
          edgeOf.set(key, a.length);
          a.push(i);
          b.push(-1);
          xy.push(ring[2 * k], ring[2 * k + 1], ring[2 * j], ring[2 * j + 1]);
        } else if (first !== i) {
          b[edgeOf.get(key)!] = i;
        }
      }
    }
  });
  return { edgeA: Int32Array.from(a), edgeB: Int32Array.from(b), edgeXY: Int16Array.from(xy) };
}

function pathOf(rings: Int16Array[]): Path2D {
  const path = new Path2D();
  for (const ring of rings) {
    path.moveTo(ring[0], ring[1]);
    for (let k = 2; k < ring.length; k += 2) path.lineTo(ring[k], ring[k + 1]);
    path.closePath();
  }
  return path;
}

function insideRings(x: number, y: number, rings: Int16Array[]): boolean {
  let inside = false;
  for (const r of rings) {
    const n = r.length / 2;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const xi = r[2 * i];
      const yi = r[2 * i + 1];
      const xj = r[2 * j];
      const yj = r[2 * j + 1];
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}
