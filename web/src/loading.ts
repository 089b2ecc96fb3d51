// Reading what the map shows: a sales force's alignments, an alignment (its memberships, territories and outlines),
// its layer's units (GeoJSON, or vector tiles for a big layer), and the accounts and reps drawn over them.

import type { Api, UnitFacts } from "./api";
import type { ApprovalPanel } from "./approval";
import type { UnitStyles } from "./choropleth";
import { $ } from "./dom";
import { robustBounds } from "./framing";
import type { EditHistory } from "./history";
import { renderPointLegend } from "./legend";
import type { MapView } from "./map";
import type { OptimizePanel } from "./optimize";
import type { Scenarios } from "./scenarios";
import type { SchedulePanel } from "./schedule";
import type { Assignment } from "./services";
import type { MapState } from "./state";
import type { TerritoryPanel } from "./territory_panel";
import { drawFromTiles, UnitTiles } from "./tiles";

export interface LoaderHost {
  api: Api;
  assignment: Assignment;
  state: MapState;
  view: MapView;
  styles: UnitStyles;
  history: EditHistory;
  territoryPanel: TerritoryPanel;
  scenarios: Scenarios;
  approval: ApprovalPanel;
  schedule: SchedulePanel;
  optimizer(): OptimizePanel | null;
  clickUnit(unitId: string, additive: boolean): void;
  /** Draw the alignment on screen: units, outlines, toggles, panel and controls. */
  renderAll(): void;
  say(text: string, error?: boolean): void;
  /** What the address bar shows changed. */
  viewChanged(): void;
}

export class Loader {
  constructor(private readonly host: LoaderHost) {}

  async chooseSalesForce(force: string, alignmentId: string | null = null): Promise<void> {
    const { api, state } = this.host;
    state.alignments = await api.alignments(force);
    const active = state.alignments.find((a) => a.state === "active");
    const pick = state.alignments.find((a) => a.id === alignmentId) ?? active ?? state.alignments[0];
    this.host.scenarios.fillAlignmentSelects(pick?.id ?? "");
    if (pick) await this.loadAlignment(pick.id);
  }

  async loadAlignment(id: string): Promise<void> {
    const { api, state } = this.host;
    const alignment = await api.alignment(id);
    if (state.current?.id !== id) {
      this.host.history.clear();
      state.selection.clear();
    }
    state.current = alignment;
    // Who owns what loads while the layer does (the two are independent): a big layer's first paint waits for
    // the slower of them, not for both in turn.
    const owners = Promise.all([api.memberships(id), api.territories(id)]);
    owners.catch(() => undefined); // awaited below; a failure of the layer's load must not leave it unhandled
    if (state.layer?.id !== alignment.layer_id) await this.loadLayer(alignment.layer_id);
    const [memberships, territories] = await owners;
    state.territoryOf = new Map(memberships.map((m) => [m.unit_id, m.territory_id]));
    state.locked = new Set(memberships.filter((m) => m.locked).map((m) => m.unit_id));
    state.territories = territories;
    state.recolour();
    if (state.layer && drawFromTiles(state.layer.unit_count)) {
      // Drawn from tiles, whose outlines come with them: the server's territory shapes (labels, upper levels) follow
      // the first paint instead of holding it back.
      void this.loadShapes().then(() => {
        if (state.current?.id === id) this.host.renderAll();
      });
    } else {
      await this.loadShapes();
    }
    this.host.renderAll();
    this.host.viewChanged();
    this.host.optimizer()?.alignmentShown(id);
    void this.host.territoryPanel.refreshBalance();
    void this.host.approval.refresh();
    void this.host.schedule.refresh();
    if (state.compared) await this.host.scenarios.compareWith(state.compared.alignment.id);
  }

  async loadLayer(layerId: string): Promise<void> {
    const { api, state, view, styles } = this.host;
    const layer = await api.layer(layerId);
    state.layer = layer;
    // The units' facts (30,000+ for ZIP areas) load while the map frames the layer and draws its tiles.
    const facts = api.unitFacts(layerId);
    facts.catch(() => undefined); // awaited below
    // The layer's main cluster of units, not its bbox: remote islands (the Aleutians cross the antimeridian) would
    // otherwise shrink the mainland to a speck. A layer stored before frames were known is framed from its facts.
    if (layer.frame) this.frame([[layer.frame[1], layer.frame[0]], [layer.frame[3], layer.frame[2]]]);
    else this.frame(robustBounds([...(await facts).values()].map((f) => f.centre)));
    if (drawFromTiles(layer.unit_count)) return this.loadTiledLayer(layerId, facts);
    const zoom = Math.max(0, Math.round(view.map.getZoom()) + 1);
    const [features, adjacency, known] = await Promise.all([api.units(layerId, zoom), api.adjacency(layerId), facts]);
    state.areas = new Map([...known].map(([id, f]) => [id, f.area]));
    state.unitFeatures = features;
    state.unitProps = new Map(features.map((f) => [String(f.properties.unit_id ?? f.id), f.properties]));
    state.edges = adjacency.edges;
    view.setUnits(features, styles.style);
    view.setTooltip(styles.tooltip);
    styles.fillChoroplethOptions();
    this.host.optimizer()?.setAttributes(layer.attributes);
    void this.loadPoints();
  }

  private frame(bounds: [[number, number], [number, number]] | null): void {
    if (bounds) this.host.view.map.fitBounds(bounds, { padding: [12, 12], animate: false });
  }

  /** A big layer (ZIP areas): units drawn from vector tiles at once; the units' names, attributes and centres (for
   * selection) follow with their facts. */
  async loadTiledLayer(layerId: string, facts: Promise<Map<string, UnitFacts>>): Promise<void> {
    const { api, state, view, styles } = this.host;
    const tiles = new UnitTiles(
      api,
      layerId,
      styles.style,
      (u) => state.territoryOf.get(u) ?? null,
      (u, additive) => this.host.clickUnit(u, additive),
    );
    state.unitFeatures = [];
    state.unitProps = new Map();
    // Adjacency serves edits and checks, not the first paint: the tiles are drawn without waiting for it.
    state.edges = [];
    void api.adjacency(layerId).then((a) => {
      if (state.layer?.id === layerId) state.edges = a.edges;
    });
    view.setTiledUnits(tiles, new Map());
    view.setTooltip(styles.tooltip);
    const known = await facts;
    if (state.layer?.id !== layerId) return;
    state.areas = new Map([...known].map(([id, f]) => [id, f.area]));
    state.unitProps = new Map([...known].map(([id, f]) => [id, f.props]));
    view.setUnitCentres(new Map([...known].map(([id, f]) => [id, f.centre])));
    styles.fillChoroplethOptions();
    this.host.optimizer()?.setAttributes(state.layer.attributes);
    void this.loadPoints();
  }

  async loadPoints(): Promise<void> {
    const { assignment, view } = this.host;
    try {
      view.setAccounts(await assignment.clusterSource());
      view.setReps(await assignment.reps());
      renderPointLegend($("legend-points"), { accounts: view.hasLayer("accounts"), reps: view.hasLayer("reps") });
    } catch (e) {
      this.host.say(`Accounts and reps could not be loaded: ${e instanceof Error ? e.message : String(e)}`, true);
    }
    this.host.styles.renderToggles();
  }

  /** The territory outlines of the alignment on screen, simplified for the map's zoom. */
  async loadShapes(): Promise<void> {
    const { api, state, view } = this.host;
    if (!state.current) return;
    state.shapes = await api.territoryShapes(state.current.id, Math.round(view.map.getZoom()));
  }
}
