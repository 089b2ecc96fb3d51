// The legend of what the map draws besides the units: account bubbles, single accounts, rep homes, cities.

import { h } from "./dom";

export function renderPointLegend(el: HTMLElement, layers: { accounts: boolean; reps: boolean }): void {
  const row = (swatch: HTMLElement, text: string, key: string) =>
    h("div", { class: "legend-row", "data-legend": key }, swatch, h("span", {}, text));
  el.replaceChildren(
    h("div", { class: "legend-title" }, "On the map"),
    ...(layers.accounts
      ? [
          row(h("span", { class: "legend-cluster" }, "12"), "Accounts nearby, counted (click to zoom in)", "accounts"),
          row(h("span", { class: "legend-account" }), "One account", "account"),
        ]
      : []),
    ...(layers.reps ? [row(h("span", { class: "legend-rep" }), "Rep home", "reps")] : []),
    row(h("span", { class: "legend-city" }), "City", "cities"),
  );
}
