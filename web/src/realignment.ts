// After a publish: assignment-service applies the realignment from geo-service's event and records a run
// (`GET /assignment/v1/realignments`). The page waits for the run of the published alignment and shows who gained
// and lost which accounts, per rep.

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

export function renderRunSummary(el: HTMLElement, run: RealignmentRun): void {
  const heading = document.createElement("p");
  heading.className = "run-heading";
  const potential = run.summary?.potential_moved;
  heading.textContent =
    `Realignment done: ${run.accounts_moved} account${run.accounts_moved === 1 ? "" : "s"} changed owner` +
    (typeof potential === "number" ? ` (potential ${potential.toLocaleString("en-US")})` : "") +
    ".";
  const table = document.createElement("table");
  table.className = "run-reps";
  table.setAttribute("aria-label", "Accounts gained and lost per rep");
  const head = table.createTHead().insertRow();
  for (const h of ["Rep", "Gained", "Lost", "Potential ±"]) {
    const th = document.createElement("th");
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  for (const r of run.summary?.reps ?? []) {
    const row = body.insertRow();
    row.dataset.rep = r.rep_external_id ?? "";
    const net = r.potential_gained - r.potential_lost;
    for (const text of [
      r.rep_external_id ?? "(no rep)",
      `+${r.accounts_gained}`,
      `−${r.accounts_lost}`,
      `${net >= 0 ? "+" : "−"}${Math.abs(net).toLocaleString("en-US")}`,
    ])
      row.insertCell().textContent = text;
  }
  el.replaceChildren(heading, table);
}
