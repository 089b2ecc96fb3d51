// The web map: loads an alignment through the public APIs, draws it, and edits drafts with moves, locks,
// undo / redo, scenarios, compare and publish. State lives here; drawing in map.ts, the panel in panel.ts.

import "leaflet/dist/leaflet.css";
import "./style.css";
import type * as L from "leaflet";
import { Alignment, Api, ApiError, Feature, FeatureCollection, Layer, Territory } from "./api";
import { ApprovalPanel } from "./approval";
import { changedUnits, ComparePane } from "./compare";
import { colourTerritories, territoryAdjacency, WHITE_SPACE } from "./colouring";
import { MapView, ShapeSelector } from "./map";
import {
  balanceSourceText, classColour, classOf, DIVERGING, PanelRow, quantileBreaks, renderLegend, symmetricBreaks,
  renderTerritoryPanel, SEQUENTIAL,
} from "./panel";
import { $, errorText, fillSelect, legendNote } from "./dom";
import { robustBounds } from "./framing";
import { OptimizePanel } from "./optimize";
import { QuotaPanel } from "./quotas";
import { gateEditing, WriteGate } from "./editing";
import { NO_TOKEN, tokenProblem } from "./auth";
import { PublishFlow } from "./publish_confirm";
import { SchedulePanel } from "./schedule";
import { wireSplit } from "./split";
import { Assignment, BalanceReport, Metrics } from "./services";
import { askForToken, signedIn, takeToken, tenantOf } from "./signin";
import { exposeTestHook } from "./testhook";
import { drawFromTiles, UnitTiles, unitAttributes } from "./tiles";
import { renderPointLegend } from "./legend";
import { unitTooltipHtml } from "./tooltips";
import { readViewState, saveViewState, viewOf } from "./urlstate";

interface Move {
  unitIds: string[];
  to: string | null;
  from: Map<string | null, string[]>;
}

interface Compared {
  alignment: Alignment;
  territoryOf: Map<string, string | null>;
  colours: Map<string, string>;
  changed: Set<string>;
  view: MapView;
}

export class App {
  token: string | null;
  api: Api;
  metrics: Metrics;
  assignment: Assignment;
  view: MapView;
  selector: ShapeSelector;
  alignments: Alignment[] = [];
  current: Alignment | null = null;
  layer: Layer | null = null;
  unitFeatures: Feature[] = [];
  unitProps = new Map<string, Record<string, unknown>>();
  areas = new Map<string, number>();
  edges: [string, string][] = [];
  territories: Territory[] = [];
  shapes: FeatureCollection | null = null;
  territoryOf = new Map<string, string | null>();
  locked = new Set<string>();
  colours = new Map<string, string>();
  balance: BalanceReport | null = null;
  balanceMetric: string | null = null;
  balanceNote = "";
  selection = new Set<string>();
  focusTerritory: string | null = null;
  undoStack: Move[] = [];
  redoStack: Move[] = [];
  compared: Compared | null = null;
  choropleth = "territory";
  busy = 0;
  ready = false;
  optimizer: OptimizePanel | null = null;
  approval: ApprovalPanel;
  schedule: SchedulePanel;
  quotas: QuotaPanel;
  publishFlow: PublishFlow;
  comparePane: ComparePane;
  /** One write (move, lock, undo, redo, publish) at a time. */
  writes = new WriteGate(() => this.renderEditState());

  constructor() {
    this.token = takeToken();
    $<HTMLInputElement>("tenant").value = this.token ? tenantOf(this.token) : "";
    this.api = new Api(this.token ?? "", askForToken);
    this.metrics = new Metrics(this.api);
    this.assignment = new Assignment(this.api);
    this.view = new MapView($("map"), (id, additive) => this.clickUnit(id, additive));
    this.selector = new ShapeSelector(this.view, (ring, additive) => this.selectInside(ring, additive));
    this.comparePane = new ComparePane(this.view);
    this.publishFlow = new PublishFlow({
      api: this.api,
      assignment: this.assignment,
      current: () => this.current,
      alignments: () => this.alignments,
      territoryOf: () => this.territoryOf,
      territories: () => this.territories,
      publish: () => this.writes.run(() => this.publish()),
    });
    this.approval = new ApprovalPanel({
      api: this.api,
      user: signedIn(this.token),
      current: () => this.current,
      zone: () => this.schedule.zone(),
      say: (text, error) => this.say(text, error),
      changed: () => this.renderEditState(),
      publishOverridingApproval: () => this.publish(true),
    });
    this.schedule = new SchedulePanel({
      api: this.api,
      current: () => this.current,
      alignments: () => this.alignments,
      say: (text, error) => this.say(text, error),
      zoneChanged: () => this.approval.render(),
      published: (s) => this.guard(() => this.chooseSalesForce(s.sales_force, this.current?.id ?? null)),
    });
    this.quotas = new QuotaPanel({
      api: this.api,
      current: () => this.current,
      activeAlignment: () => this.alignments.find((a) => a.state === "active" && a.sales_force === this.current?.sales_force) ?? null,
      changed: () => this.renderPanel(),
    });
    this.wire();
    wireSplit({
      api: this.api,
      current: () => this.current,
      selection: () => [...this.selection],
      edit: (write) => this.edit(write),
      run: (work) => this.writes.run(work),
      reload: async (id) => {
        await this.loadAlignment(id);
        this.refreshSelects();
      },
      select: (ids) => this.selectUnits(ids),
      say: (text, error) => this.say(text, error),
    });
  }

  // ---- loading -------------------------------------------------------------------------------------------------

  async start(): Promise<void> {
    const problem = this.token ? tokenProblem(this.token) : NO_TOKEN;
    if (problem) {
      askForToken(problem);
      this.renderEditState();
      this.ready = true;
      return;
    }
    await this.guard(async () => {
      this.alignments = await this.api.alignments();
      const forces = [...new Set(this.alignments.map((a) => a.sales_force))].sort();
      // The address says what to show (urlstate.ts); what it names that does not exist falls back to the defaults.
      const wanted = readViewState();
      this.balanceMetric = wanted.metric;
      const named = this.alignments.find((a) => a.id === wanted.alignment);
      const force =
        named?.sales_force ?? (wanted.salesForce && forces.includes(wanted.salesForce) ? wanted.salesForce : forces[0]) ?? "";
      fillSelect($("sales-force"), forces.map((f) => [f, f]), force);
      if (!force) {
        this.say("No alignments yet for this tenant: import a layer and create one through the geo-service API.");
        this.ready = true;
        return;
      }
      await this.chooseSalesForce(force, named?.id ?? wanted.alignment);
      const compare = this.alignments.find((a) => a.id === wanted.compare && a.id !== this.current?.id);
      if (compare) {
        await this.compareWith(compare.id);
        $<HTMLSelectElement>("compare").value = compare.id;
      }
      const optimizer = await this.assignment.optimizerAvailable();
      $("optimize-section").hidden = optimizer === null;
      if (optimizer) {
        this.optimizer = new OptimizePanel(
          {
            api: this.api,
            currentAlignmentId: () => this.current?.id ?? null,
            openDraft: (id) => this.openDraft(id),
            say: (text, error) => this.say(text, error),
          },
          optimizer,
        );
        this.optimizer.setAttributes(this.layer?.attributes ?? []);
      }
    });
    this.ready = true;
  }

  async chooseSalesForce(force: string, alignmentId: string | null = null): Promise<void> {
    this.alignments = await this.api.alignments(force);
    const active = this.alignments.find((a) => a.state === "active");
    const pick = this.alignments.find((a) => a.id === alignmentId) ?? active ?? this.alignments[0];
    this.fillAlignmentSelects(pick?.id ?? "");
    if (pick) await this.loadAlignment(pick.id);
  }

  fillAlignmentSelects(selected: string): void {
    const label = (a: Alignment) => `${a.name} (${a.state}, v${a.version})`;
    fillSelect($("alignment"), this.alignments.map((a) => [a.id, label(a)]), selected);
    const compare = this.compared?.alignment.id ?? "";
    fillSelect(
      $("compare"),
      [["", "(none)"], ...this.alignments.filter((a) => a.id !== selected).map((a): [string, string] => [a.id, label(a)])],
      compare,
    );
  }

  async loadAlignment(id: string): Promise<void> {
    const alignment = await this.api.alignment(id);
    if (this.current?.id !== id) {
      this.undoStack = [];
      this.redoStack = [];
      this.selection.clear();
    }
    this.current = alignment;
    if (this.layer?.id !== alignment.layer_id) await this.loadLayer(alignment.layer_id);
    const [memberships, territories] = await Promise.all([
      this.api.memberships(id),
      this.api.territories(id),
    ]);
    this.territoryOf = new Map(memberships.map((m) => [m.unit_id, m.territory_id]));
    this.locked = new Set(memberships.filter((m) => m.locked).map((m) => m.unit_id));
    this.territories = territories;
    this.recolour();
    await this.loadShapes();
    this.renderAll();
    saveViewState(viewOf(this));
    this.optimizer?.alignmentShown(id);
    void this.refreshBalance();
    void this.approval.refresh();
    void this.schedule.refresh();
    if (this.compared) await this.compareWith(this.compared.alignment.id);
  }

  async loadLayer(layerId: string): Promise<void> {
    this.layer = await this.api.layer(layerId);
    const facts = await this.api.unitFacts(layerId);
    this.areas = new Map([...facts].map(([id, f]) => [id, f.area]));
    // Frame the bulk of the units (2nd to 98th percentile of their centres), not the layer's bbox: remote
    // islands (the Aleutians cross the antimeridian) would otherwise shrink the mainland to a speck.
    const bounds = robustBounds([...facts.values()].map((f) => f.centre));
    if (bounds) this.view.map.fitBounds(bounds, { padding: [12, 12], animate: false });
    if (drawFromTiles(this.layer.unit_count)) return this.loadTiledLayer(layerId, facts);
    const zoom = Math.max(0, Math.round(this.view.map.getZoom()) + 1);
    const [features, adjacency] = await Promise.all([this.api.units(layerId, zoom), this.api.adjacency(layerId)]);
    this.unitFeatures = features;
    this.unitProps = new Map(features.map((f) => [String(f.properties.unit_id ?? f.id), f.properties]));
    this.edges = adjacency.edges;
    this.view.setUnits(features, (u) => this.unitStyle(u));
    this.view.setTooltip((u) => this.unitTooltip(u));
    this.fillChoroplethOptions();
    this.optimizer?.setAttributes(this.layer.attributes);
    void this.loadPoints();
  }

  /** A big layer (ZIP areas): units drawn from vector tiles, attributes fetched after the first draw. */
  async loadTiledLayer(layerId: string, facts: Map<string, { centre: [number, number] }>): Promise<void> {
    const tiles = new UnitTiles(
      this.api,
      layerId,
      (u) => this.unitStyle(u),
      (u) => this.territoryOf.get(u) ?? null,
      (u, additive) => this.clickUnit(u, additive),
    );
    this.unitFeatures = [];
    this.unitProps = new Map();
    this.edges = (await this.api.adjacency(layerId)).edges;
    this.view.setTiledUnits(tiles, new Map([...facts].map(([id, f]) => [id, f.centre])));
    this.view.setTooltip((u) => this.unitTooltip(u));
    this.fillChoroplethOptions();
    this.optimizer?.setAttributes(this.layer!.attributes);
    void unitAttributes(this.api, layerId).then((props) => {
      if (this.layer?.id === layerId) this.unitProps = props;
    });
    void this.loadPoints();
  }

  async loadPoints(): Promise<void> {
    try {
      this.view.setAccounts(await this.assignment.clusterSource());
      this.view.setReps(await this.assignment.reps());
      renderPointLegend($("legend-points"), { accounts: this.view.hasLayer("accounts"), reps: this.view.hasLayer("reps") });
    } catch (e) {
      this.say(`Accounts and reps could not be loaded: ${e instanceof Error ? e.message : String(e)}`, true);
    }
    this.renderToggles();
  }

  async loadShapes(): Promise<void> {
    if (!this.current) return;
    this.shapes = await this.api.territoryShapes(this.current.id, Math.round(this.view.map.getZoom()));
  }

  /** Balance from metrics-service; it learns of a move through events, so wait until it has seen our version. */
  async refreshBalance(): Promise<void> {
    const alignment = this.current;
    if (!alignment) return;
    if (!(await this.metrics.available())) {
      this.balance = null;
      this.renderPanel();
      return;
    }
    const deadline = performance.now() + 10_000;
    this.balanceNote = "";
    try {
      for (;;) {
        const applied = await this.metrics.appliedVersion(alignment.id);
        if (applied === null || applied >= alignment.version) break;
        if (performance.now() > deadline) {
          this.balanceNote = "metrics-service has not caught up with the last edit yet: the bars may be behind.";
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      if (this.current === alignment) void this.quotas.refresh();
      const report = await this.metrics.balance(alignment.id, this.balanceMetric);
      if (this.current !== alignment) return;
      this.balance = report;
      if (report) this.balanceMetric = report.metric;
      fillSelect($("balance-metric"), (report?.metrics ?? []).map((m) => [m, m.replace(/_/g, " ")]), report?.metric ?? "");
      saveViewState(viewOf(this));
    } catch (e) {
      this.balanceNote = `metrics-service: ${errorText(e)}`;
    }
    this.renderPanel();
    if (this.choropleth.startsWith("metric:")) this.restyleUnits();
  }

  // ---- drawing -------------------------------------------------------------------------------------------------

  recolour(): void {
    const leaves = this.leafIds();
    this.colours = colourTerritories([...leaves], territoryAdjacency(this.edges, this.territoryOf));
  }

  leafIds(): Set<string> {
    const parents = new Set(this.territories.map((t) => t.parent_id).filter((p): p is string => !!p));
    return new Set(this.territories.filter((t) => !parents.has(t.id)).map((t) => t.id));
  }

  depthOf(id: string): number {
    const byId = new Map(this.territories.map((t) => [t.id, t]));
    let depth = 0;
    for (let t = byId.get(id); t?.parent_id && depth < 50; t = byId.get(t.parent_id)) depth++;
    return depth;
  }

  unitStyle(unitId: string): L.PathOptions {
    const selected = this.selection.has(unitId);
    const changed = this.compared?.changed.has(unitId) ?? false;
    const locked = this.locked.has(unitId);
    return {
      fillColor: this.fillFor(unitId),
      fillOpacity: 0.85,
      color: selected ? "#ff006e" : changed ? "#d00000" : locked ? "#000" : "#ffffff",
      opacity: selected || changed || locked ? 1 : 0.5,
      weight: selected ? 2.5 : changed ? 2 : locked ? 1.5 : 0.4,
      dashArray: locked && !selected ? "3 2" : undefined,
    };
  }

  fillFor(unitId: string): string {
    const territory = this.territoryOf.get(unitId) ?? null;
    if (this.choropleth === "territory") return territory ? (this.colours.get(territory) ?? WHITE_SPACE) : WHITE_SPACE;
    const value = this.choroplethValue(unitId);
    if (value === null || !this.breaks) return WHITE_SPACE;
    const colours = this.choropleth.startsWith("metric:deviation") ? DIVERGING : SEQUENTIAL;
    return classColour(classOf(value, this.breaks), this.breaks, colours);
  }

  breaks: number[] | null = null;

  choroplethValue(unitId: string): number | null {
    const kind = this.choropleth;
    const props = this.unitProps.get(unitId);
    if (kind.startsWith("attr:")) {
      const v = props?.[kind.slice(5)];
      return typeof v === "number" ? v : null;
    }
    if (kind === "density") {
      const potential = props?.potential;
      const area = this.areas.get(unitId);
      return typeof potential === "number" && area ? potential / area : null;
    }
    if (kind.startsWith("metric:")) {
      const territory = this.territoryOf.get(unitId);
      const b = territory ? this.balance?.territories.get(territory) : undefined;
      const key = kind.slice(7);
      if (!b) return null;
      if (key === "deviation") return b.deviation_pct;
      if (key === "utilization" && b.metrics.utilization !== undefined) return b.metrics.utilization * 100;
      return b.metrics[key] ?? null;
    }
    return null;
  }

  restyleUnits(ids?: Iterable<string>): void {
    if (this.choropleth !== "territory" && !ids) {
      const values = [...this.unitProps.keys()].map((u) => this.choroplethValue(u)).filter((v): v is number => v !== null);
      // Deviation diverges around 0 (balanced): symmetric classes with the band in the neutral middle.
      const band = [...(this.balance?.territories.values() ?? [])][0]?.band_pct ?? 5;
      this.breaks = this.choropleth === "metric:deviation" ? symmetricBreaks(values, band) : quantileBreaks(values);
      const option = $<HTMLSelectElement>("choropleth").selectedOptions[0];
      const colours = this.choropleth.startsWith("metric:deviation") ? DIVERGING : SEQUENTIAL;
      renderLegend($("legend"), option?.textContent ?? "", this.breaks, colours, this.choropleth.startsWith("metric:") ? "%" : "");
    } else if (this.choropleth === "territory") {
      $("legend").replaceChildren(legendNote("Units coloured by territory; neighbours never share a colour. Grey: white space."));
    }
    this.view.restyle((u) => this.unitStyle(u), ids);
  }

  renderAll(): void {
    this.restyleUnits();
    const levels = this.view.setOutlines(
      (this.shapes?.features ?? []).map((f) => ({ id: String(f.id), level: this.depthOf(String(f.id)), feature: f })),
    );
    this.outlineLevels = levels;
    this.renderToggles();
    this.renderPanel();
    this.renderEditState();
    this.fillTargetTerritories();
  }

  outlineLevels: number[] = [];

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
    const attrs = this.layer?.attributes ?? [];
    const options: [string, string][] = [["territory", "Territory"]];
    if (attrs.includes("potential")) options.push(["density", "Potential density (per km²)"]);
    for (const a of attrs) options.push([`attr:${a}`, a.replace(/_/g, " ")]);
    options.push(["metric:utilization", "Utilization, % (metrics-service)"], ["metric:deviation", "Deviation from target, % (metrics-service)"]);
    fillSelect($("choropleth"), options, this.choropleth);
    void this.metrics.available().then((ok) => {
      for (const o of $<HTMLSelectElement>("choropleth").options) if (o.value.startsWith("metric:")) o.disabled = !ok;
    });
  }

  renderPanel(): void {
    const leaves = this.leafIds();
    const counts = new Map<string, number>();
    for (const f of this.shapes?.features ?? []) counts.set(String(f.id), Number(f.properties.unit_count ?? 0));
    const ordered: Territory[] = [];
    const children = new Map<string | null, Territory[]>();
    for (const t of this.territories) {
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
      depth: this.depthOf(t.id),
      isLeaf: leaves.has(t.id),
      colour: this.colours.get(t.id) ?? WHITE_SPACE,
      unitCount: counts.get(t.id) ?? 0,
      balance: this.balance?.territories.get(t.id),
      quota: this.quotas.byCode.get(t.code),
    }));
    renderTerritoryPanel($("territory-list"), rows, this.focusTerritory, (id) => this.focus(id));
    void this.metrics.available().then(
      (ok) => ($("balance-source").textContent = this.balanceNote || balanceSourceText(this.balance, ok)),
    );
  }

  focus(territoryId: string): void {
    this.focusTerritory = territoryId;
    const feature = this.shapes?.features.find((f) => String(f.id) === territoryId) ?? null;
    this.view.highlightShape(feature);
    for (const li of $("territory-list").querySelectorAll("li"))
      li.classList.toggle("selected", (li as HTMLElement).dataset.territoryId === territoryId);
  }

  fillTargetTerritories(): void {
    const leaves = this.leafIds();
    const keep = $<HTMLSelectElement>("target-territory").value;
    const options: [string, string][] = this.territories
      .filter((t) => leaves.has(t.id))
      .sort((a, b) => a.code.localeCompare(b.code))
      .map((t) => [t.id, `${t.code}${t.name !== t.code ? ` · ${t.name}` : ""}`]);
    options.push(["", "(white space)"]);
    fillSelect($("target-territory"), options, keep || options[0]?.[0] || "");
  }

  renderEditState(): void {
    const draft = this.current?.state === "draft";
    $("alignment-state").textContent = this.current ? `${this.current.state} · v${this.current.version}` : "";
    $("edit-hint").textContent = draft
      ? "Click a unit to select it, shift-click to add or remove, or drag a box or lasso in a selection mode."
      : "This alignment is not a draft: create a draft from it to edit.";
    for (const id of ["move", "lock", "unlock", "publish", "preview"]) $<HTMLButtonElement>(id).disabled = !draft;
    this.approval.gate(draft);
    this.schedule.gate(draft, this.approval.allowsPublish());
    $<HTMLButtonElement>("undo").disabled = !draft || this.undoStack.length === 0;
    $<HTMLButtonElement>("redo").disabled = !draft || this.redoStack.length === 0;
    this.publishFlow.sync();
    gateEditing(draft, this.writes.busy);
    const n = this.selection.size;
    const lockedCount = [...this.selection].filter((u) => this.locked.has(u)).length;
    $("selection-info").textContent = n === 0 ? "No units selected." : `${n} unit${n === 1 ? "" : "s"} selected${lockedCount ? ` (${lockedCount} locked)` : ""}.`;
  }

  unitTooltip(unitId: string): string {
    const t = this.territories.find((x) => x.id === this.territoryOf.get(unitId));
    const props = this.unitProps.get(unitId) ?? {};
    return unitTooltipHtml(unitId, props, t, this.locked.has(unitId), (fips) => this.view.basemap.countyName(fips));
  }

  // ---- selection and editing -----------------------------------------------------------------------------------

  clickUnit(unitId: string, additive: boolean): void {
    // In box and lasso modes the click that ends a drag is not a selection of its own.
    if (this.selector.mode !== "pan") return;
    const before = [...this.selection];
    if (additive) {
      if (this.selection.has(unitId)) this.selection.delete(unitId);
      else this.selection.add(unitId);
    } else {
      this.selection = new Set([unitId]);
    }
    this.selectionChanged(before);
  }

  selectInside(ring: L.LatLng[], additive: boolean): void {
    this.selectUnits(this.view.unitsInside(ring), additive);
  }

  selectUnits(ids: string[], additive = false): void {
    const before = [...this.selection];
    if (!additive) this.selection.clear();
    for (const id of ids) this.selection.add(id);
    this.selectionChanged(before);
  }

  selectionChanged(before: string[]): void {
    this.view.restyle((u) => this.unitStyle(u), new Set([...before, ...this.selection]));
    this.renderEditState();
  }

  async moveSelection(): Promise<void> {
    const target = $<HTMLSelectElement>("target-territory").value || null;
    const unitIds = [...this.selection].sort();
    if (unitIds.length === 0) return this.say("Select units first.");
    const from = new Map<string | null, string[]>();
    for (const u of unitIds) {
      const t = this.territoryOf.get(u) ?? null;
      if (t === target) continue;
      if (!from.has(t)) from.set(t, []);
      from.get(t)!.push(u);
    }
    const moving = [...from.values()].flat();
    if (moving.length === 0) return this.say("The selected units are already in that territory.");
    if (await this.applyMove({ unitIds: moving, to: target, from })) {
      this.undoStack.push({ unitIds: moving, to: target, from });
      this.redoStack = [];
      this.selection.clear();
      this.afterEdit(moving);
    }
  }

  /** POST the moves (one per target); false (and a message) when the server refused. */
  async applyMove(move: Move): Promise<boolean> {
    return this.edit(async (alignment) => {
      const r = await this.api.move(alignment.id, alignment.version, move.unitIds, move.to);
      this.current = r.alignment;
      for (const u of move.unitIds) this.territoryOf.set(u, move.to);
      this.say(`Moved ${r.moved} unit${r.moved === 1 ? "" : "s"} to ${this.codeOf(move.to)}.`);
    });
  }

  async undo(): Promise<void> {
    const move = this.undoStack.pop();
    if (!move) return;
    let ok = true;
    for (const [territory, unitIds] of move.from) {
      ok = await this.edit(async (alignment) => {
        const r = await this.api.move(alignment.id, alignment.version, unitIds, territory);
        this.current = r.alignment;
        for (const u of unitIds) this.territoryOf.set(u, territory);
      });
      if (!ok) break;
    }
    if (ok) {
      this.redoStack.push(move);
      this.say(`Undone: ${move.unitIds.length} unit${move.unitIds.length === 1 ? "" : "s"} back where they were.`);
    }
    this.afterEdit(move.unitIds);
  }

  async redo(): Promise<void> {
    const move = this.redoStack.pop();
    if (!move) return;
    if (await this.applyMove(move)) this.undoStack.push(move);
    this.afterEdit(move.unitIds);
  }

  async setLock(locked: boolean): Promise<void> {
    const unitIds = [...this.selection];
    if (unitIds.length === 0) return this.say("Select units first.");
    const ok = await this.edit(async (alignment) => {
      this.current = await this.api.lock(alignment.id, alignment.version, unitIds, locked);
      for (const u of unitIds) (locked ? this.locked.add(u) : this.locked.delete(u));
      this.say(`${locked ? "Locked" : "Unlocked"} ${unitIds.length} unit${unitIds.length === 1 ? "" : "s"}.`);
    });
    if (ok) this.afterEdit(unitIds);
  }

  afterEdit(unitIds: string[]): void {
    this.recolour();
    void this.approval.refresh(); // an edit makes an approval stale
    void this.guard(async () => {
      await this.loadShapes();
      this.renderAll();
      this.refreshSelects();
      await this.refreshBalance();
    });
    this.view.restyle((u) => this.unitStyle(u), unitIds);
  }

  refreshSelects(): void {
    if (!this.current) return;
    const i = this.alignments.findIndex((a) => a.id === this.current!.id);
    if (i >= 0) this.alignments[i] = this.current;
    this.fillAlignmentSelects(this.current.id);
  }

  /**
   * Run a versioned write. 412: someone else edited the alignment; show the conflict, reload, drop the undo history
   * (it no longer describes this version) and never retry over their change. 409 with unit_ids: locked units.
   */
  async edit(write: (alignment: Alignment) => Promise<void>): Promise<boolean> {
    const alignment = this.current;
    if (!alignment) return false;
    this.busy++;
    try {
      await write(alignment);
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) {
        const now = e.problem.current_version;
        this.showConflict(
          `Someone else changed “${alignment.name}” (now version ${now ?? "newer"}; you had version ${alignment.version}). ` +
            "Your change was not applied. The map has been reloaded with their version: check it and redo your change.",
        );
        this.undoStack = [];
        this.redoStack = [];
        await this.loadAlignment(alignment.id);
      } else if (e instanceof ApiError && e.status === 409 && Array.isArray(e.problem.unit_ids)) {
        const ids = e.problem.unit_ids;
        this.say(`Not moved: ${ids.length} locked unit${ids.length === 1 ? "" : "s"} (${ids.slice(0, 8).join(", ")}${ids.length > 8 ? "…" : ""}). Unlock them or leave them out.`, true);
        this.selectUnits(ids);
      } else {
        this.say(errorText(e), true);
      }
      return false;
    } finally {
      this.busy--;
      this.renderEditState();
    }
  }

  codeOf(territoryId: string | null): string {
    return territoryId ? (this.territories.find((t) => t.id === territoryId)?.code ?? territoryId) : "white space";
  }

  // ---- scenarios, compare, publish, optimize -------------------------------------------------------------------

  async createDraft(name: string): Promise<void> {
    const source = this.alignments.find((a) => a.state === "active") ?? this.current;
    if (!source) return this.say("There is no alignment to copy.", true);
    await this.guard(async () => {
      const draft = await this.api.createDraft(name || `What-if ${new Date().toISOString().slice(0, 16)}`, source.sales_force, source.id);
      this.alignments = await this.api.alignments(source.sales_force);
      this.fillAlignmentSelects(draft.id);
      await this.loadAlignment(draft.id);
      this.say(`Draft “${draft.name}” created from “${source.name}”.`);
    });
  }

  async compareWith(otherId: string): Promise<void> {
    const closing = !otherId || otherId === this.current?.id || !this.current;
    this.comparePane.close();
    this.compared = null;
    if (closing) {
      if ($("messages").textContent?.startsWith("Comparing with")) this.say("");
      this.restyleUnits();
      saveViewState(viewOf(this));
      return;
    }
    const other = await this.api.alignment(otherId);
    const [memberships, territories] = await Promise.all([this.api.memberships(otherId), this.api.territories(otherId)]);
    const otherOf = new Map(memberships.map((m) => [m.unit_id, m.territory_id]));
    const changed = changedUnits(this.territoryOf, this.territories, otherOf, territories);
    // Same code, same colour on both sides, so the eye follows the territories across.
    const colours = new Map<string, string>();
    const byCode = new Map(this.territories.map((t) => [t.code, this.colours.get(t.id)]));
    for (const t of territories) colours.set(t.id, byCode.get(t.code) ?? "#888");
    const style = (u: string): L.PathOptions => {
      const t = otherOf.get(u);
      const c = changed.has(u);
      return { fillColor: t ? (colours.get(t) ?? WHITE_SPACE) : WHITE_SPACE, fillOpacity: 0.85, color: c ? "#d00000" : "#fff", weight: c ? 2 : 0.4 };
    };
    const title = `${other.name} (${other.state}) · ${changed.size} unit${changed.size === 1 ? "" : "s"} in another territory, outlined red`;
    const view = this.comparePane.open(title, this.unitFeatures, style);
    this.compared = { alignment: other, territoryOf: otherOf, colours, changed, view };
    this.restyleUnits();
    saveViewState(viewOf(this));
    this.say(`Comparing with “${other.name}”: ${changed.size} changed unit${changed.size === 1 ? "" : "s"}.`);
  }

  async preview(): Promise<void> {
    await this.guard(() => this.publishFlow.preview());
  }

  async publish(overrideApproval = false): Promise<void> {
    const ok = await this.edit(async (alignment) => {
      this.current = await this.api.publish(alignment.id, alignment.version, overrideApproval);
      this.say(`Published “${alignment.name}”: it is now the active alignment of ${alignment.sales_force}.`);
    });
    if (ok && this.current) {
      const published = this.current;
      this.publishFlow.publishedNow(published);
      await this.guard(() => this.chooseSalesForce(published.sales_force, published.id));
    }
  }

  /** Open a draft written elsewhere (the optimizer): list it among the alignments and load it. */
  async openDraft(id: string): Promise<void> {
    await this.guard(async () => {
      const draft = await this.api.alignment(id);
      this.alignments = await this.api.alignments(draft.sales_force);
      this.fillAlignmentSelects(id);
      await this.loadAlignment(id);
    });
  }

  // ---- plumbing ------------------------------------------------------------------------------------------------

  setMode(mode: "pan" | "box" | "lasso"): void {
    this.selector.setMode(mode);
    for (const m of ["pan", "box", "lasso"]) $(`mode-${m}`).setAttribute("aria-pressed", String(m === mode));
  }

  wire(): void {
    $("sales-force").addEventListener("change", (e) => void this.guard(() => this.chooseSalesForce((e.target as HTMLSelectElement).value)));
    $("alignment").addEventListener("change", (e) => void this.guard(() => this.loadAlignment((e.target as HTMLSelectElement).value)));
    $("compare").addEventListener("change", (e) => void this.guard(() => this.compareWith((e.target as HTMLSelectElement).value)));
    $("new-draft").addEventListener("submit", (e) => {
      e.preventDefault();
      void this.createDraft($<HTMLInputElement>("draft-name").value.trim());
    });
    $("balance-metric").addEventListener("change", (e) => {
      this.balanceMetric = (e.target as HTMLSelectElement).value;
      saveViewState(viewOf(this));
      void this.refreshBalance();
    });
    $("choropleth").addEventListener("change", (e) => {
      this.choropleth = (e.target as HTMLSelectElement).value;
      this.restyleUnits();
    });
    $("mode-pan").addEventListener("click", () => this.setMode("pan"));
    $("mode-box").addEventListener("click", () => this.setMode("box"));
    $("mode-lasso").addEventListener("click", () => this.setMode("lasso"));
    $("clear-selection").addEventListener("click", () => this.selectUnits([]));
    $("move").addEventListener("click", () => void this.writes.run(() => this.moveSelection()));
    $("lock").addEventListener("click", () => void this.writes.run(() => this.setLock(true)));
    $("unlock").addEventListener("click", () => void this.writes.run(() => this.setLock(false)));
    $("undo").addEventListener("click", () => void this.writes.run(() => this.undo()));
    $("redo").addEventListener("click", () => void this.writes.run(() => this.redo()));
    $("preview").addEventListener("click", () => void this.preview());
    $("publish").addEventListener("click", () => void this.publishFlow.confirm());
    document.addEventListener("keydown", (e) => {
      const target = e.target as HTMLElement;
      if (["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName)) return;
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z") {
        e.preventDefault();
        void this.writes.run(() => (e.shiftKey ? this.redo() : this.undo()));
      } else if (e.key === "Escape") this.selectUnits([]);
      else if (e.key === "b") this.setMode("box");
      else if (e.key === "l") this.setMode("lasso");
      else if (e.key === "p") this.setMode("pan");
    });
  }

  async guard(work: () => Promise<void>): Promise<void> {
    this.busy++;
    try {
      await work();
    } catch (e) {
      this.say(errorText(e), true);
    } finally {
      this.busy--;
    }
  }

  say(text: string, error = false): void {
    const el = $("messages");
    el.textContent = text;
    el.className = error ? "error" : "";
  }

  showConflict(text: string): void {
    const el = $("conflict");
    el.hidden = false;
    el.replaceChildren(document.createTextNode(text + " "));
    const dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.textContent = "Dismiss";
    dismiss.addEventListener("click", () => (el.hidden = true));
    el.append(dismiss);
  }
}

const app = new App();
exposeTestHook(app);
void app.start();
