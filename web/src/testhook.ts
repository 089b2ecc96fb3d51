// window.territoryMap: a small, stable surface for the browser tests (and for debugging from the console),
// the counterpart of MapLibre's queryRenderedFeatures for this Leaflet map.

import { territoryAdjacency } from "./colouring";
import type { App } from "./main";

export function exposeTestHook(app: App): void {
  (window as unknown as { territoryMap: unknown }).territoryMap = {
    get ready() {
      return app.ready && app.busy === 0;
    },
    get version() {
      return app.current?.version ?? null;
    },
    get alignmentId() {
      return app.current?.id ?? null;
    },
    queryRenderedFeatures: (layer: "units" | "territories") =>
      layer === "units" ? app.view.renderedUnits() : app.view.renderedOutlines(),
    territoryOf: (unitId: string) => app.codeOf(app.territoryOf.get(unitId) ?? null),
    selection: () => [...app.selection].sort(),
    locked: () => [...app.locked].sort(),
    changedUnits: () => [...(app.compared?.changed ?? [])].sort(),
    territoryColours: () => Object.fromEntries([...app.colours].map(([id, c]) => [app.codeOf(id), c])),
    adjacentTerritories: () =>
      [...territoryAdjacency(app.edges, app.territoryOf)].map(([id, ns]) => [app.codeOf(id), [...ns].map((n) => app.codeOf(n))]),
    unitScreenPoint: (unitId: string) => {
      const centre = app.view.unitCentre(unitId);
      if (!centre) return null;
      const p = app.view.map.latLngToContainerPoint(centre);
      const box = app.view.map.getContainer().getBoundingClientRect();
      return { x: box.left + p.x, y: box.top + p.y };
    },
    renderedPoints: () => app.view.renderedPoints(),
    tiles: () => {
      const t = app.view.tiles();
      return t
        ? { loading: t.loading(), fetched: t.tilesFetched, drawn: t.drawnUnits().size, outlineSegments: t.outlineSegments(), coverage: t.coverage(), ...t.sharedBorders() }
        : null;
    },
    labels: () => app.view.labels.placed(),
    clusters: () => {
      const layer = app.view.clusters();
      return layer ? { clusters: layer.clusters(), drawnAt: layer.drawnAt, lastDrawMs: layer.lastDrawMs } : null;
    },
    countyName: (fips: string) => app.view.basemap.countyName(fips),
    optimizeProgress: () => [...(app.optimizer?.seen ?? [])],
    optimizeResult: () => app.optimizer?.lastResult ?? null,
    approval: () => app.approval.approval,
    pendingSchedules: () => app.schedule.pending.map((s) => s.id),
    quotas: () => Object.fromEntries(app.quotas.byCode),
    map: app.view.map,
  };
}
