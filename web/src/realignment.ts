// After a publish: assignment-service applies the realignment from geo-service's event and records a run
// (`GET /assignment/v1/realignments`). The page waits for the run of the published alignment and shows who gained
// and lost which accounts, per rep, by name (`GET /assignment/v1/reps`).

import { Api } from "./api";

export interface RepChange {
  rep_id: string | null;
  rep_external_id: string | null;
  accounts_gained: number;
  accounts_lost: number;
  potential_gained: number;
  potential_lost: number;
}

export interface RealignmentRun {
  id: string;
  alignment_id: string;
  alignment_version: number;
  status: string;
  accounts_moved: number;
  summary: { potential_moved?: number; reps?: RepChange[] } | null;
}

/** The completed run of `alignmentId`, polling until `timeoutMs`; null when none completed in time. */
export async function completedRun(
  api: Api,
  salesForce: string,
  alignmentId: string,
  timeoutMs = 60_000,
): Promise<RealignmentRun | null> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const runs = await api.get<RealignmentRun[]>(
      `/assignment/v1/realignments?sales_force=${encodeURIComponent(salesForce)}&limit=20`,
    );
    const run = runs.find((r) => r.alignment_id === alignmentId && r.status === "completed");
    if (run) return run;
    await new Promise((r) => setTimeout(r, 500));
  }
  return null;
}

/** Rep external id -> name, page by page; empty when the reps cannot be read (the ids are shown instead). */
export async function repNames(api: Api): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const limit = 1000;
  try {
    for (let offset = 0; offset < 100 * limit; offset += limit) {
      const page = await api.get<{ external_id: string; name: string | null }[]>(
        `/assignment/v1/reps?limit=${limit}&offset=${offset}`,
      );
      for (const r of page) if (r.name) names.set(r.external_id, r.name);
      if (page.length < limit) break;
    }
  } catch {
    // No reps to read (or not allowed to): ids are still meaningful to a planner.
  }
  return names;
}

/** "Wes Mountain" for a rep with a name, its external id otherwise, "(no rep)" for accounts without one. */
export function repLabel(externalId: string | null, names: Map<string, string>): string {
  return externalId ? (names.get(externalId) ?? externalId) : "(no rep)";
}

/** A table of accounts gained and lost per rep (`className` tells the tables apart: preview or run). */
export function repTable(reps: RepChange[], names: Map<string, string>, className: string, label: string): HTMLTableElement {
  const table = document.createElement("table");
  table.className = className;
  table.setAttribute("aria-label", label);
  const head = table.createTHead().insertRow();
  for (const h of ["Rep", "Gained", "Lost", "Potential ±"]) {
    const th = document.createElement("th");
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  for (const r of reps) {
    const row = body.insertRow();
    row.dataset.rep = r.rep_external_id ?? "";
    const net = r.potential_gained - r.potential_lost;
    for (const text of [
      repLabel(r.rep_external_id, names),
      `+${r.accounts_gained}`,
      `−${r.accounts_lost}`,
      `${net >= 0 ? "+" : "−"}${Math.abs(net).toLocaleString("en-US")}`,
    ])
      row.insertCell().textContent = text;
    if (r.rep_external_id) row.cells[0].title = r.rep_external_id;
  }
  return table;
}

export function renderRunSummary(el: HTMLElement, run: RealignmentRun, names: Map<string, string> = new Map()): void {
  const heading = document.createElement("p");
  heading.className = "run-heading";
  const potential = run.summary?.potential_moved;
  heading.textContent =
    `Realignment done: ${run.accounts_moved} account${run.accounts_moved === 1 ? "" : "s"} changed owner` +
    (typeof potential === "number" ? ` (potential ${potential.toLocaleString("en-US")})` : "") +
    ".";
  const table = repTable(run.summary?.reps ?? [], names, "run-reps", "Accounts gained and lost per rep");
  el.replaceChildren(heading, table);
}
