// Selecting units: click (shift-click adds or removes), a box or a lasso drawn in a selection mode, Escape to clear,
// and the mode buttons and keys (b: box, l: lasso, p: pan).

import type * as L from "leaflet";
import { $ } from "./dom";
import { MapView, ShapeSelector } from "./map";
import type { MapState } from "./state";

export class UnitSelection {
  readonly selector: ShapeSelector;

  constructor(
    private readonly state: MapState,
    private readonly view: MapView,
    private readonly style: (unitId: string) => L.PathOptions,
    /** The selection changed (the edit controls say how many units, and how many locked). */
    private readonly changed: () => void,
  ) {
    this.selector = new ShapeSelector(view, (ring, additive) => this.selectInside(ring, additive));
    $("mode-pan").addEventListener("click", () => this.setMode("pan"));
    $("mode-box").addEventListener("click", () => this.setMode("box"));
    $("mode-lasso").addEventListener("click", () => this.setMode("lasso"));
    $("clear-selection").addEventListener("click", () => this.select([]));
  }

  click(unitId: string, additive: boolean): void {
    // In box and lasso modes the click that ends a drag is not a selection of its own.
    if (this.selector.mode !== "pan") return;
    const selection = this.state.selection;
    const before = [...selection];
    if (!additive) this.state.selection = new Set([unitId]);
    else if (selection.has(unitId)) selection.delete(unitId);
    else selection.add(unitId);
    this.selectionChanged(before);
  }

  selectInside(ring: L.LatLng[], additive: boolean): void {
    this.select(this.view.unitsInside(ring), additive);
  }

  select(ids: string[], additive = false): void {
    const before = [...this.state.selection];
    if (!additive) this.state.selection.clear();
    for (const id of ids) this.state.selection.add(id);
    this.selectionChanged(before);
  }

  /** The keys of selection: Escape clears, b / l / p pick the mode. True when the key was one of them. */
  key(e: KeyboardEvent): boolean {
    if (e.key === "Escape") this.select([]);
    else if (e.key === "b") this.setMode("box");
    else if (e.key === "l") this.setMode("lasso");
    else if (e.key === "p") this.setMode("pan");
    else return false;
    return true;
  }

  setMode(mode: "pan" | "box" | "lasso"): void {
    this.selector.setMode(mode);
    for (const m of ["pan", "box", "lasso"]) $(`mode-${m}`).setAttribute("aria-pressed", String(m === mode));
  }

  private selectionChanged(before: string[]): void {
    this.view.restyle(this.style, new Set([...before, ...this.state.selection]));
    this.changed();
  }
}
