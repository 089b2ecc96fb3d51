// window.territoryMap: a small, stable surface for the browser tests (and for debugging from the console),
// the counterpart of MapLibre's queryRenderedFeatures for this Leaflet map.

import { territoryAdjacency } from "./colouring";
import type { App } from "./main";

export function exposeTestHook(app: App): void {
  const state = app.state;
  (window as unknown as { territoryMap: unknown }).territoryMap = {
    get ready() {
      return app.state.ready && app.state.busy === 0;
    },
    get version() {
      return app.state.current?.version ?? null;
    },
    get alignmentId() {
      return app.state.current?.id ?? null;
    },
    queryRenderedFeatures: (layer: "units" | "territories") =>
      layer === "units" ? app.view.renderedUnits() : app.view.renderedOutlines(),
    territoryOf: (unitId: string) => state.codeOf(state.territoryOf.get(unitId) ?? null),
    selection: () => [...state.selection].sort(),
    locked: () => [...state.locked].sort(),
    changedUnits: () => [...(state.compared?.changed ?? [])].sort(),
    territoryColours: () => Object.fromEntries([...state.colours].map(([id, c]) => [state.codeOf(id), c])),
    adjacentTerritories: () =>
      [...territoryAdjacency(state.edges, state.territoryOf)].map(([id, ns]) => [state.codeOf(id), [...ns].map((n) => state.codeOf(n))]),
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
