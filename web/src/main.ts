// The web map: loads an alignment through the public APIs, draws it, and edits drafts with moves, locks,
// undo / redo, scenarios, compare and publish. This file starts the page and wires its parts together: the state in
// state.ts, the edit history in history.ts, reading in loading.ts, the units' look in choropleth.ts, drawing in
// map.ts, and each panel in its own module.

import "leaflet/dist/leaflet.css";
import "./style.css";
import { Api } from "./api";
import { ApprovalPanel } from "./approval";
import { UnitStyles } from "./choropleth";
import { ComparePane } from "./compare";
import { $, errorText, fillSelect } from "./dom";
import { renderEditControls } from "./edit_controls";
import { EditHistory } from "./history";
import { Loader } from "./loading";
import { MapView } from "./map";
import { say, showConflict } from "./messages";
import { OptimizePanel } from "./optimize";
import { PublishSection } from "./publish_section";
import { QuotaPanel } from "./quotas";
import { Scenarios } from "./scenarios";
import { UnitSelection } from "./selection";
import { SchedulePanel } from "./schedule";
import { Assignment, Metrics } from "./services";
import { askForToken, signedIn, signIn, tokenUsable } from "./signin";
import { wireSplit } from "./split";
import { MapState } from "./state";
import { TerritoryPanel } from "./territory_panel";
import { exposeTestHook } from "./testhook";
import { readViewState, saveViewState, viewOf } from "./urlstate";

export class App {
  readonly state = new MapState();
  readonly token = signIn();
  readonly api = new Api(this.token ?? "", askForToken);
  readonly metrics = new Metrics(this.api);
  readonly assignment = new Assignment(this.api);
  readonly view = new MapView($("map"), (id, additive) => this.selection.click(id, additive));
  readonly styles = new UnitStyles(this.state, this.view, this.metrics);
  readonly selection = new UnitSelection(this.state, this.view, this.styles.style, () => this.renderEditState());
  readonly comparePane = new ComparePane(this.view);
  readonly history = new EditHistory({
    api: this.api,
    state: this.state,
    say,
    showConflict,
    reload: (id) => this.loader.loadAlignment(id),
    select: (ids) => this.selection.select(ids),
    afterEdit: (ids) => this.afterEdit(ids),
    changed: () => this.renderEditState(),
  });
  readonly publish: PublishSection;
  readonly approval: ApprovalPanel;
  readonly schedule: SchedulePanel;
  readonly quotas: QuotaPanel;
  readonly territoryPanel: TerritoryPanel;
  readonly scenarios: Scenarios;
  readonly loader: Loader;
  optimizer: OptimizePanel | null = null;

  constructor() {
    const { state, api, assignment, view, styles, history } = this;
    const guard = (work: () => Promise<void>) => this.guard(work);
    const viewChanged = () => saveViewState(viewOf(state));
    this.publish = new PublishSection({
      api, assignment, state, history, say, guard,
      showSalesForce: (force, id) => this.loader.chooseSalesForce(force, id),
    });
    this.approval = new ApprovalPanel({
      api,
      user: signedIn(this.token),
      current: () => state.current,
      zone: () => this.schedule.zone(),
      say,
      changed: () => this.renderEditState(),
      publishOverridingApproval: () => this.publish.publish(true),
    });
    this.schedule = new SchedulePanel({
      api,
      current: () => state.current,
      alignments: () => state.alignments,
      say,
      zoneChanged: () => this.approval.render(),
      published: (s) => this.guard(() => this.loader.chooseSalesForce(s.sales_force, state.current?.id ?? null)),
    });
    this.quotas = new QuotaPanel({
      api,
      current: () => state.current,
      activeAlignment: () => state.alignments.find((a) => a.state === "active" && a.sales_force === state.current?.sales_force) ?? null,
      changed: () => this.territoryPanel.render(),
    });
    this.territoryPanel = new TerritoryPanel({
      state, view, metrics: this.metrics, quotas: this.quotas, viewChanged,
      balanceChanged: () => {
        if (styles.choropleth.startsWith("metric:")) styles.restyle();
      },
    });
    this.scenarios = new Scenarios({
      api, state, comparePane: this.comparePane, say, guard, viewChanged,
      loadAlignment: (id) => this.loader.loadAlignment(id),
      restyle: () => styles.restyle(),
    });
    this.loader = new Loader({
      api, assignment, state, view, styles, history, say, viewChanged,
      territoryPanel: this.territoryPanel,
      scenarios: this.scenarios,
      approval: this.approval,
      schedule: this.schedule,
      optimizer: () => this.optimizer,
      clickUnit: (id, additive) => this.selection.click(id, additive),
      renderAll: () => this.renderAll(),
    });
    this.wire();
    wireSplit({
      api,
      current: () => state.current,
      selection: () => [...state.selection],
      edit: (write) => history.edit(write),
      run: (work) => history.run(work),
      reload: async (id) => {
        await this.loader.loadAlignment(id);
        this.scenarios.refreshSelects();
      },
      select: (ids) => this.selection.select(ids),
      say,
    });
  }

  async start(): Promise<void> {
    const { state, api } = this;
    if (!tokenUsable(this.token)) {
      this.renderEditState();
      state.ready = true;
      return;
    }
    await this.guard(async () => {
      state.alignments = await api.alignments();
      const forces = [...new Set(state.alignments.map((a) => a.sales_force))].sort();
      // The address says what to show (urlstate.ts); what it names that does not exist falls back to the defaults.
      const wanted = readViewState();
      state.balanceMetric = wanted.metric;
      const named = state.alignments.find((a) => a.id === wanted.alignment);
      const force =
        named?.sales_force ?? (wanted.salesForce && forces.includes(wanted.salesForce) ? wanted.salesForce : forces[0]) ?? "";
      fillSelect($("sales-force"), forces.map((f) => [f, f]), force);
      if (!force) {
        say("No alignments yet for this tenant: import a layer and create one through the geo-service API.");
        state.ready = true;
        return;
      }
      await this.loader.chooseSalesForce(force, named?.id ?? wanted.alignment);
      const compare = state.alignments.find((a) => a.id === wanted.compare && a.id !== state.current?.id);
      if (compare) {
        await this.scenarios.compareWith(compare.id);
        $<HTMLSelectElement>("compare").value = compare.id;
      }
      const optimizer = await this.assignment.optimizerAvailable();
      $("optimize-section").hidden = optimizer === null;
      if (optimizer) {
        const host = {
          api,
          currentAlignmentId: () => state.current?.id ?? null,
          openDraft: (id: string) => this.scenarios.openDraft(id),
          say,
        };
        this.optimizer = new OptimizePanel(host, optimizer);
        this.optimizer.setAttributes(state.layer?.attributes ?? []);
      }
    });
    state.ready = true;
  }

  // ---- drawing -----------------------------------------------------------------------------------------------

  renderAll(): void {
    this.styles.restyle();
    this.styles.drawOutlines();
    this.styles.renderToggles();
    this.territoryPanel.render();
    this.renderEditState();
    this.territoryPanel.fillTargetTerritories();
  }

  renderEditState(): void {
    const { state, history, approval, schedule } = this;
    renderEditControls({ state, history, approval, schedule, publishFlow: this.publish.flow });
  }

  afterEdit(unitIds: string[]): void {
    this.state.recolour();
    void this.approval.refresh(); // an edit makes an approval stale
    void this.guard(async () => {
      await this.loader.loadShapes();
      this.renderAll();
      this.scenarios.refreshSelects();
      await this.territoryPanel.refreshBalance();
    });
    this.view.restyle(this.styles.style, unitIds);
  }

  // ---- plumbing ------------------------------------------------------------------------------------------------

  wire(): void {
    const { history, loader } = this;
    const choose = (e: Event) => (e.target as HTMLSelectElement).value;
    $("sales-force").addEventListener("change", (e) => void this.guard(() => loader.chooseSalesForce(choose(e))));
    $("alignment").addEventListener("change", (e) => void this.guard(() => loader.loadAlignment(choose(e))));
    const target = () => $<HTMLSelectElement>("target-territory").value || null;
    $("move").addEventListener("click", () => void history.run(() => history.moveSelection(target())));
    $("lock").addEventListener("click", () => void history.run(() => history.setLock(true)));
    $("unlock").addEventListener("click", () => void history.run(() => history.setLock(false)));
    $("undo").addEventListener("click", () => void history.run(() => history.undo()));
    $("redo").addEventListener("click", () => void history.run(() => history.redo()));
    document.addEventListener("keydown", (e) => {
      const el = e.target as HTMLElement;
      if (["INPUT", "SELECT", "TEXTAREA"].includes(el.tagName)) return;
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z") {
        e.preventDefault();
        void history.run(() => (e.shiftKey ? history.redo() : history.undo()));
      } else this.selection.key(e);
    });
  }

  async guard(work: () => Promise<void>): Promise<void> {
    this.state.busy++;
    try {
      await work();
    } catch (e) {
      say(errorText(e), true);
    } finally {
      this.state.busy--;
    }
  }
}

const app = new App();
exposeTestHook(app);
void app.start();
