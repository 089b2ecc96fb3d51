// Scenario comparison: units whose territory differs between two alignments (territories are copied with new ids,
// so a unit is compared by its territory's code), and the second map that shows the other alignment.

import type * as L from "leaflet";
import type { Feature, Territory } from "./api";
import { $ } from "./dom";
import { MapView } from "./map";

export function changedUnits(
  a: Map<string, string | null>,
  aTerritories: Territory[],
  b: Map<string, string | null>,
  bTerritories: Territory[],
): Set<string> {
  const codeA = new Map(aTerritories.map((t) => [t.id, t.code]));
  const codeB = new Map(bTerritories.map((t) => [t.id, t.code]));
  const changed = new Set<string>();
  for (const unit of new Set([...a.keys(), ...b.keys()])) {
    const ta = a.get(unit);
    const tb = b.get(unit);
    if ((ta ? codeA.get(ta) : null) !== (tb ? codeB.get(tb) : null)) changed.add(unit);
  }
  return changed;
}

/**
 * The second map of a side-by-side comparison: opened next to the main map and kept at its centre and zoom both
 * ways. It draws the units as the main map does: from the GeoJSON features, or, for a layer the main map draws from
 * vector tiles (whose features are not in memory), from the same tiles styled and outlined by the compared
 * alignment. Closing takes off the listeners it put on the main map before removing its own (a listener left behind
 * would move a map that no longer exists; removing the map takes its tiles' listeners with it), then lets the main
 * map measure its full width again once the layout has settled.
 */
export class ComparePane {
  view: MapView | null = null;
  private listeners: [L.Map, L.LeafletEventHandlerFn][] = [];

  constructor(private readonly main: MapView) {}

  open(
    title: string,
    features: Feature[],
    style: (unitId: string) => L.PathOptions,
    territoryOf: (unitId: string) => string | null,
  ): MapView {
    this.close();
    $("compare-pane").hidden = false;
    document.body.classList.add("comparing");
    $("compare-title").textContent = title;
    const view = new MapView($("map-compare"), () => undefined);
    this.view = view;
    this.main.map.invalidateSize({ animate: false });
    // At the main map's view before any unit is drawn: tiles are fetched for that view only.
    view.map.setView(this.main.map.getCenter(), this.main.map.getZoom(), { animate: false });
    const tiles = this.main.tiles();
    if (tiles) view.setTiledUnitsLike(this.main, tiles.sibling(style, territoryOf));
    else view.setUnits(features, style);
    let syncing = false;
    const follow = (from: L.Map, to: L.Map) => () => {
      if (syncing || this.view !== view) return;
      syncing = true;
      try {
        to.setView(from.getCenter(), from.getZoom(), { animate: false });
      } finally {
        syncing = false;
      }
    };
    this.listen(this.main.map, follow(this.main.map, view.map));
    this.listen(view.map, follow(view.map, this.main.map));
    return view;
  }

  close(): void {
    const view = this.view;
    for (const [map, fn] of this.listeners) map.off("moveend", fn);
    this.listeners = [];
    this.view = null;
    $("compare-title").textContent = "";
    $("compare-pane").hidden = true;
    document.body.classList.remove("comparing");
    if (!view) return;
    view.map.remove();
    // The pane is hidden now, but the main map only learns its new width from a layout pass.
    this.main.map.invalidateSize({ animate: false });
    requestAnimationFrame(() => this.main.map.invalidateSize({ animate: false }));
  }

  private listen(map: L.Map, fn: L.LeafletEventHandlerFn): void {
    map.on("moveend", fn);
    this.listeners.push([map, fn]);
  }
}
