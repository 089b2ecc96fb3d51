// Scenarios: the alignment pickers, a new what-if draft copied from the active alignment, a draft written elsewhere
// (the optimizer) opened, and the side-by-side comparison with another alignment (compare.ts draws the second map).

import type * as L from "leaflet";
import type { Alignment, Api } from "./api";
import { WHITE_SPACE } from "./colouring";
import { changedUnits, ComparePane } from "./compare";
import { $, fillSelect } from "./dom";
import { UNIT_FILL_OPACITY } from "./map";
import type { MapState } from "./state";

export interface ScenarioHost {
  api: Api;
  state: MapState;
  comparePane: ComparePane;
  loadAlignment(id: string): Promise<void>;
  /** Restyle every unit (the compared scenario outlines the changed ones). */
  restyle(): void;
  /** What the address bar shows changed (the compared alignment). */
  viewChanged(): void;
  say(text: string, error?: boolean): void;
  /** Run a read, counting it as busy and saying what went wrong. */
  guard(work: () => Promise<void>): Promise<void>;
}

const plural = (n: number) => (n === 1 ? "" : "s");

export class Scenarios {
  constructor(private readonly host: ScenarioHost) {
    $("compare").addEventListener("change", (e) => void host.guard(() => this.compareWith((e.target as HTMLSelectElement).value)));
    $("new-draft").addEventListener("submit", (e) => {
      e.preventDefault();
      void this.createDraft($<HTMLInputElement>("draft-name").value.trim());
    });
  }

  fillAlignmentSelects(selected: string): void {
    const { state } = this.host;
    const label = (a: Alignment) => `${a.name} (${a.state}, v${a.version})`;
    fillSelect($("alignment"), state.alignments.map((a) => [a.id, label(a)]), selected);
    const compare = state.compared?.alignment.id ?? "";
    fillSelect(
      $("compare"),
      [["", "(none)"], ...state.alignments.filter((a) => a.id !== selected).map((a): [string, string] => [a.id, label(a)])],
      compare,
    );
  }

  /** After a write: the pickers show the alignment on screen at its new version. */
  refreshSelects(): void {
    const { state } = this.host;
    if (!state.current) return;
    state.syncCurrent();
    this.fillAlignmentSelects(state.current.id);
  }

  async createDraft(name: string): Promise<void> {
    const { api, state } = this.host;
    const source = state.alignments.find((a) => a.state === "active") ?? state.current;
    if (!source) return this.host.say("There is no alignment to copy.", true);
    await this.host.guard(async () => {
      const draft = await api.createDraft(name || `What-if ${new Date().toISOString().slice(0, 16)}`, source.sales_force, source.id);
      state.alignments = await api.alignments(source.sales_force);
      this.fillAlignmentSelects(draft.id);
      await this.host.loadAlignment(draft.id);
      this.host.say(`Draft “${draft.name}” created from “${source.name}”.`);
    });
  }

  /** Open a draft written elsewhere (the optimizer): list it among the alignments and load it. */
  async openDraft(id: string): Promise<void> {
    const { api, state } = this.host;
    await this.host.guard(async () => {
      const draft = await api.alignment(id);
      state.alignments = await api.alignments(draft.sales_force);
      this.fillAlignmentSelects(id);
      await this.host.loadAlignment(id);
    });
  }

  /** Compare the alignment on screen with another side by side ("" or the same alignment: close the comparison). */
  async compareWith(otherId: string): Promise<void> {
    const { api, state, comparePane } = this.host;
    const closing = !otherId || otherId === state.current?.id || !state.current;
    comparePane.close();
    state.compared = null;
    if (closing) {
      if ($("messages").textContent?.startsWith("Comparing with")) this.host.say("");
      this.host.restyle();
      this.host.viewChanged();
      return;
    }
    const other = await api.alignment(otherId);
    const [memberships, territories] = await Promise.all([api.memberships(otherId), api.territories(otherId)]);
    const otherOf = new Map(memberships.map((m) => [m.unit_id, m.territory_id]));
    const changed = changedUnits(state.territoryOf, state.territories, otherOf, territories);
    // Same code, same colour on both sides, so the eye follows the territories across.
    const colours = new Map<string, string>();
    const byCode = new Map(state.territories.map((t) => [t.code, state.colours.get(t.id)]));
    for (const t of territories) colours.set(t.id, byCode.get(t.code) ?? "#888");
    const style = (u: string): L.PathOptions => {
      const t = otherOf.get(u);
      const c = changed.has(u);
      return {
        fillColor: t ? (colours.get(t) ?? WHITE_SPACE) : WHITE_SPACE,
        fillOpacity: UNIT_FILL_OPACITY,
        color: c ? "#d00000" : "#fff",
        opacity: c ? 1 : 0.5,
        weight: c ? 2 : 0.4,
      };
    };
    const title = `${other.name} (${other.state}) · ${changed.size} unit${plural(changed.size)} in another territory, outlined red`;
    const view = comparePane.open(title, state.unitFeatures, style, (u) => otherOf.get(u) ?? null);
    state.compared = { alignment: other, territoryOf: otherOf, colours, changed, view };
    this.host.restyle();
    this.host.viewChanged();
    this.host.say(`Comparing with “${other.name}”: ${changed.size} changed unit${plural(changed.size)}.`);
  }
}
