// What the map shows, kept in the address bar's query so that a reload, a bookmark or a shared link shows the same
// map: `?sales_force=field&alignment=<id>&metric=potential&view=compare&compare=<id>`. Values are only hints: the
// page uses an alignment only if the tenant has it and a metric only if metrics-service knows it, and falls back to
// its defaults (quietly) otherwise. The token never goes here (see signin.ts).

export interface ViewState {
  salesForce: string | null;
  alignment: string | null;
  /** The metric the balance bars show. */
  metric: string | null;
  /** The alignment compared side by side (view=compare); null: the map alone. */
  compare: string | null;
}

// Generous shapes: enough to keep markup and path tricks out of requests, never a check of existence.
const NAME = /^[\p{L}\p{N} ._:/()&+-]{1,100}$/u;
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const METRIC = /^[A-Za-z0-9_.-]{1,100}$/;

function valid(value: string | null, shape: RegExp): string | null {
  const v = value?.trim() ?? "";
  return v && shape.test(v) ? v : null;
}

export function readViewState(search: string = location.search): ViewState {
  const q = new URLSearchParams(search);
  const compare = q.get("view") === "compare" ? valid(q.get("compare"), ID) : null;
  return {
    salesForce: valid(q.get("sales_force"), NAME),
    alignment: valid(q.get("alignment"), ID),
    metric: valid(q.get("metric"), METRIC),
    compare,
  };
}

export function viewQuery(state: ViewState): string {
  const q = new URLSearchParams();
  if (state.salesForce) q.set("sales_force", state.salesForce);
  if (state.alignment) q.set("alignment", state.alignment);
  if (state.metric) q.set("metric", state.metric);
  if (state.compare) {
    q.set("view", "compare");
    q.set("compare", state.compare);
  }
  return q.toString();
}

/** Replace (not push) the address: moving around the map is not a trail of history entries. */
export function saveViewState(state: ViewState): void {
  const query = viewQuery(state);
  const url = location.pathname + (query ? `?${query}` : "") + location.hash;
  if (url !== location.pathname + location.search + location.hash) history.replaceState(null, "", url);
}

/** The page's view as the address should show it. */
export function viewOf(app: {
  current: { id: string; sales_force: string } | null;
  balanceMetric: string | null;
  compared: { alignment: { id: string } } | null;
}): ViewState {
  return {
    salesForce: app.current?.sales_force ?? null,
    alignment: app.current?.id ?? null,
    metric: app.balanceMetric,
    compare: app.compared?.alignment.id ?? null,
  };
}
