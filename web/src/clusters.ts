// Accounts as bubbles: assignment-service counts them per grid cell (about 96 px at the current zoom, in the
// view), so 50,000 accounts are a few hundred rows and appear in well under a second. Each bubble is a small DOM
// element: a click on it zooms in there, and a click anywhere else reaches the unit underneath.

import * as L from "leaflet";
import { formatAmount } from "./format";

export interface AccountCluster {
  lon: number;
  lat: number;
  count: number;
  potential: number;
  external_id: string | null;
  name: string | null;
}

export type ClusterSource = (cell: number, bbox: [number, number, number, number]) => Promise<AccountCluster[]>;

const CELL_PX = 96;

export class ClusterLayer {
  private readonly group: L.LayerGroup;
  private request = 0;
  private drawn: AccountCluster[] = [];
  /** When the clusters of the current view were drawn, ms after the view settled (for the tests). */
  lastDrawMs: number | null = null;
  drawnAt = 0;

  constructor(
    private readonly map: L.Map,
    private readonly source: ClusterSource,
  ) {
    if (!map.getPane("accounts")) map.createPane("accounts").style.zIndex = "610";
    this.group = L.layerGroup([], { pane: "accounts" });
    map.on("moveend", this.refresh, this);
  }

  addTo(): this {
    this.group.addTo(this.map);
    void this.refresh();
    return this;
  }

  remove(): void {
    this.group.remove();
  }

  destroy(): void {
    this.map.off("moveend", this.refresh, this);
    this.group.remove();
  }

  get visible(): boolean {
    return this.map.hasLayer(this.group);
  }

  /** Accounts in the drawn bubbles. */
  accounts(): number {
    return this.drawn.reduce((n, c) => n + c.count, 0);
  }

  clusters(): AccountCluster[] {
    return this.drawn;
  }

  async refresh(): Promise<void> {
    if (!this.visible) return;
    const started = performance.now();
    const id = ++this.request;
    const zoom = this.map.getZoom();
    const cell = (360 / (256 * 2 ** zoom)) * CELL_PX;
    const b = this.map.getBounds().pad(0.25);
    const bbox: [number, number, number, number] = [
      Math.max(-180, b.getWest()), Math.max(-90, b.getSouth()), Math.min(180, b.getEast()), Math.min(90, b.getNorth()),
    ];
    let clusters: AccountCluster[];
    try {
      clusters = await this.source(Math.min(45, Math.max(0.0001, cell)), bbox);
    } catch {
      return;
    }
    if (id !== this.request) return; // a later view's answer is on its way
    const max = Math.max(1, ...clusters.map((c) => c.count));
    this.group.clearLayers();
    for (const c of clusters) this.group.addLayer(this.bubble(c, max));
    this.drawn = clusters;
    this.lastDrawMs = performance.now() - started;
    this.drawnAt = performance.now();
  }

  private bubble(c: AccountCluster, max: number): L.Marker {
    const lone = c.count === 1;
    const size = lone ? 10 : Math.round(20 + 16 * Math.sqrt(Math.log10(c.count) / Math.log10(Math.max(10, max))));
    const icon = L.divIcon({
      className: lone ? "account-dot" : "account-cluster",
      html: lone ? "" : `<span>${c.count >= 10_000 ? formatAmount(c.count) : c.count >= 1000 ? `${(c.count / 1000).toFixed(1)} k` : c.count}</span>`,
      iconSize: [size, size],
    });
    const marker = L.marker([c.lat, c.lon], { icon, pane: "accounts", keyboard: false, riseOnHover: true });
    marker.bindTooltip(
      lone
        ? `<b>${escapeHtml(c.name ?? c.external_id ?? "Account")}</b><br>potential ${formatAmount(c.potential)}`
        : `${c.count.toLocaleString("en-US")} accounts<br>potential ${formatAmount(c.potential)}<br><i>click to zoom in</i>`,
      { direction: "top", offset: [0, -size / 2] },
    );
    marker.on("click", (e: L.LeafletMouseEvent) => {
      L.DomEvent.stopPropagation(e);
      if (!lone) this.map.setView([c.lat, c.lon], Math.min(this.map.getZoom() + 2, 14));
    });
    return marker;
  }
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
