// The Optimize panel: settings for assignment-service's design job (`POST /assignment/v1/design-jobs`), a progress
// bar fed by `GET /assignment/v1/jobs/{id}`, cancel, and the result (real figures) before its draft opens.
//
// From a source alignment the service rebalances in proportion to the imbalance by default; the panel asks for a
// redesign from scratch (which may move many units) only when the planner ticks it. While a job runs its bar stays in
// view and never goes back, and "best so far" is the job's own live figure (`result.progress` of the job). A result
// belongs to the draft it opened: showing another alignment clears it.

import { Api, ApiError } from "./api";
import { $, errorText } from "./dom";
import { humanizeNumbers } from "./format";

export interface Job {
  id: string;
  status: "queued" | "running" | "cancelling" | "succeeded" | "failed" | "interrupted" | "cancelled";
  stage: string;
  percent: number;
  message: string | null;
  result: Record<string, unknown> | null;
  error: { detail?: string } | null;
}

export interface DesignMetric {
  metric: string;
  tolerance: number | null;
  max_deviation_pct: number;
  within_tolerance: boolean;
  values: Record<string, number>;
}

export interface DesignResult {
  draft_alignment_id: string;
  k: number;
  balanced: boolean;
  feasible: boolean;
  contiguous: boolean;
  mean_polsby_popper: number | null;
  units_moved: number | null;
  metrics: DesignMetric[];
  violations: { constraint: string; detail: string }[];
  infeasible_reasons: { constraint: string; detail: string }[];
  stopped_by: string;
  elapsed_s: number;
  accounts_moved?: number | null;
  /** Territories holding a unit heavier than a territory may hold: kept as they are (source alignments only). */
  set_aside?: { territories: string[]; units: string[]; reasons: string[] };
  against_source?: { outcome: string };
}

/** The live figures a running design job reports (`result.progress` while it runs). */
interface LiveProgress {
  best_max_deviation_pct?: number | null;
}

const ACCOUNT_METRICS: [string, string, number][] = [
  ["account_potential", "Account potential", 5],
  ["account_count", "Account count", 10],
  ["workload_hours", "Workload hours", 10],
];
const POLL_MS = 400;

/** What the panel needs from the page: the alignment being looked at, and a way to open the result. */
export interface OptimizeHost {
  api: Api;
  currentAlignmentId(): string | null;
  openDraft(alignmentId: string): Promise<void>;
  say(text: string, error?: boolean): void;
}

export class OptimizePanel {
  running: string | null = null;
  /** Every percent the bar showed during the last run (the browser tests read it). */
  seen: number[] = [];
  lastResult: DesignResult | null = null;
  /** The alignment the figures on show belong to (the draft a run opened, or the one it ran on). */
  private shownFor: string | null = null;
  private best: number | null = null;

  constructor(
    private readonly host: OptimizeHost,
    private readonly path: string,
  ) {
    $("optimize").addEventListener("click", () => void this.start());
    $("optimize-cancel").addEventListener("click", () => void this.cancel());
    $<HTMLInputElement>("opt-use-reps").addEventListener("change", (e) => {
      $<HTMLInputElement>("opt-k").disabled = (e.target as HTMLInputElement).checked;
    });
    // A redesign moves freely: a move limit does not go with it (the service refuses both together).
    $<HTMLInputElement>("opt-redesign").addEventListener("change", (e) => {
      const redesign = (e.target as HTMLInputElement).checked;
      $<HTMLInputElement>("opt-max-moved").disabled = redesign;
      $("opt-redesign-hint").hidden = !redesign;
    });
  }

  /** The page shows another alignment: figures of a finished run that belong elsewhere go. */
  alignmentShown(alignmentId: string): void {
    if (this.running || this.shownFor === null || this.shownFor === alignmentId) return;
    this.shownFor = null;
    this.lastResult = null;
    this.seen = [];
    this.best = null;
    $("optimize-result").replaceChildren();
    this.status("");
    this.showBest();
    $("optimize-progress").hidden = true;
    $("optimize-live").classList.remove("running");
  }

  /** The metrics a planner can balance: the accounts' sums and the layer's numeric attributes. */
  setAttributes(attributes: string[]): void {
    const rows = [...ACCOUNT_METRICS, ...attributes.map((a): [string, string, number] => [a, a.replace(/_/g, " "), 5])];
    const previous = new Map(
      [...document.querySelectorAll<HTMLInputElement>("#opt-metrics input[type=checkbox]")].map((i) => [i.value, i.checked]),
    );
    $("opt-metrics").replaceChildren(
      ...rows.map(([name, label, tol], i) => {
        const row = document.createElement("div");
        row.className = "metric-row";
        const check = document.createElement("input");
        check.type = "checkbox";
        check.value = name;
        check.id = `opt-metric-${i}`;
        check.checked = previous.get(name) ?? name === "account_potential";
        const text = document.createElement("label");
        text.htmlFor = check.id;
        text.textContent = label;
        const tolerance = document.createElement("input");
        tolerance.type = "number";
        tolerance.min = "0";
        tolerance.max = "99";
        tolerance.step = "0.5";
        tolerance.value = String(tol);
        tolerance.dataset.metric = name;
        tolerance.setAttribute("aria-label", `Tolerance of ${label}, %`);
        tolerance.className = "tolerance";
        row.append(check, text, tolerance, document.createTextNode(" ±%"));
        return row;
      }),
    );
  }

  body(alignmentId: string): Record<string, unknown> {
    const metrics = [...document.querySelectorAll<HTMLInputElement>("#opt-metrics input[type=checkbox]")]
      .filter((c) => c.checked)
      .map((c) => {
        const tol = document.querySelector<HTMLInputElement>(`#opt-metrics input.tolerance[data-metric="${c.value}"]`);
        return { metric: c.value, tolerance: Number(tol?.value ?? 5) / 100 };
      });
    const body: Record<string, unknown> = {
      alignment_id: alignmentId,
      metrics,
      contiguity: $<HTMLInputElement>("opt-contiguity").checked,
      keep_locked: $<HTMLInputElement>("opt-keep-locked").checked,
      time_limit_s: Number($<HTMLInputElement>("opt-time").value || 30),
    };
    const useReps = $<HTMLInputElement>("opt-use-reps").checked;
    const k = $<HTMLInputElement>("opt-k").value.trim();
    if (useReps) body.use_reps = true;
    else if (k) body.k = Number(k);
    if ($<HTMLInputElement>("opt-redesign").checked) body.redesign = true;
    else {
      const moved = $<HTMLInputElement>("opt-max-moved").value.trim();
      if (moved) body.max_disruption = { units: Number(moved) };
    }
    return body;
  }

  async start(): Promise<void> {
    const alignmentId = this.host.currentAlignmentId();
    if (!alignmentId || this.running) return;
    this.seen = [];
    this.lastResult = null;
    this.best = null;
    this.shownFor = alignmentId;
    $("optimize-result").replaceChildren();
    this.showBest();
    let job: { job_id: string };
    try {
      job = await this.host.api.request("POST", `/assignment${this.path}`, this.body(alignmentId));
    } catch (e) {
      this.status(e instanceof ApiError && e.status === 422 ? `Not started: ${errorText(e)}` : errorText(e), true);
      return;
    }
    this.running = job.job_id;
    const bar = $<HTMLProgressElement>("optimize-progress");
    bar.value = 0;
    bar.removeAttribute("aria-valuetext");
    this.showRunning(true);
    // The panel sits at the bottom of a long sidebar: bring the bar into view (it then stays, see style.css).
    $("optimize-live").scrollIntoView({ block: "nearest" });
    try {
      const done = await this.poll(job.job_id);
      await this.finish(done);
    } catch (e) {
      this.status(errorText(e), true);
    } finally {
      this.running = null;
      this.showRunning(false);
    }
  }

  async cancel(): Promise<void> {
    if (!this.running) return;
    try {
      await this.host.api.request("POST", `/assignment/v1/jobs/${this.running}/cancel`);
      this.status("Cancelling…");
    } catch (e) {
      this.status(errorText(e), true);
    }
  }

  private async poll(jobId: string): Promise<Job> {
    for (;;) {
      const job = await this.host.api.get<Job>(`/assignment/v1/jobs/${jobId}`);
      this.progress(job);
      if (!["queued", "running", "cancelling"].includes(job.status)) return job;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  private progress(job: Job): void {
    const bar = $<HTMLProgressElement>("optimize-progress");
    // Readings can arrive out of step (a replica a little behind): the bar only ever moves forward.
    const percent = Math.max(this.seen.length ? this.seen[this.seen.length - 1] : 0, job.percent);
    bar.value = percent;
    bar.setAttribute("aria-valuetext", `${Math.round(percent)}%`);
    this.seen.push(percent);
    // The job's own live figure; a reading without one (loading, writing the draft) keeps the last shown.
    const live = (job.result?.progress as LiveProgress | undefined)?.best_max_deviation_pct;
    if (typeof live === "number" && Number.isFinite(live) && job.status !== "succeeded") this.best = live;
    this.showBest();
    this.status(`${job.stage} · ${Math.round(percent)}%`);
  }

  private showBest(): void {
    const el = $("optimize-best");
    if (this.best === null) {
      el.hidden = true;
      delete el.dataset.value;
      el.textContent = "";
      return;
    }
    el.hidden = false;
    if (el.dataset.value === String(this.best)) return;
    el.dataset.value = String(this.best);
    el.textContent = `Best max deviation so far: ${this.best.toFixed(2)}%`;
  }

  private async finish(job: Job): Promise<void> {
    if (job.status === "cancelled") return this.status("Cancelled: no draft was written.");
    if (job.status !== "succeeded" || !job.result) {
      return this.status(`The optimizer failed: ${job.error?.detail ?? job.message ?? job.status}`, true);
    }
    const result = job.result as unknown as DesignResult;
    this.lastResult = result;
    this.shownFor = result.draft_alignment_id;
    renderResult($("optimize-result"), result);
    this.status(
      result.balanced && result.feasible
        ? `Done: ${result.k} balanced territories in ${result.elapsed_s.toFixed(1)} s. The new draft is open.`
        : `Done, but not every target was met (see below). The best plan found is open as a draft.`,
      !(result.balanced && result.feasible),
    );
    await this.host.openDraft(result.draft_alignment_id);
  }

  private showRunning(running: boolean): void {
    $("optimize-progress").hidden = !running && this.seen.length === 0;
    $("optimize-live").classList.toggle("running", running);
    $("optimize-cancel").hidden = !running;
    $<HTMLButtonElement>("optimize").disabled = running;
  }

  private status(text: string, error = false): void {
    const el = $("optimize-status");
    el.textContent = text;
    el.classList.toggle("error-text", error);
  }
}

/** The plan's figures as the optimizer measured them: per metric, worst deviation against its tolerance. */
export function renderResult(el: HTMLElement, r: DesignResult): void {
  const list = document.createElement("ul");
  list.className = "design-figures";
  const item = (text: string, ok: boolean | null = null) => {
    const li = document.createElement("li");
    li.textContent = text;
    if (ok !== null) li.className = ok ? "ok" : "missed";
    list.append(li);
  };
  for (const m of r.metrics) {
    const tol = m.tolerance === null ? "not balanced" : `tolerance ±${(m.tolerance * 100).toFixed(1)}%`;
    item(`${m.metric.replace(/_/g, " ")}: max deviation ${m.max_deviation_pct.toFixed(2)}% (${tol})`, m.tolerance === null ? null : m.within_tolerance);
  }
  item(r.contiguous ? "Every territory contiguous" : "Some territories are not contiguous", r.contiguous);
  if (r.mean_polsby_popper !== null) item(`Mean Polsby-Popper ${r.mean_polsby_popper.toFixed(3)}`);
  if (r.units_moved !== null) item(`${r.units_moved} unit${r.units_moved === 1 ? "" : "s"} change territory`);
  if (typeof r.accounts_moved === "number") {
    item(`${r.accounts_moved} account${r.accounts_moved === 1 ? "" : "s"} change owner`);
  }
  const aside = r.set_aside?.territories ?? [];
  if (aside.length) {
    const li = document.createElement("li");
    li.className = "set-aside";
    const units = r.set_aside?.units.length ?? 0;
    li.textContent =
      `Set aside, kept as they are: ${aside.join(", ")} (${units} unit${units === 1 ? "" : "s"} heavier than a ` +
      "territory may hold); the others are balanced among themselves.";
    list.append(li);
  }
  if (r.against_source?.outcome) item(`Against the source: ${r.against_source.outcome}`);
  for (const v of [...r.infeasible_reasons, ...r.violations].slice(0, 6)) item(`${v.constraint}: ${humanizeNumbers(v.detail)}`, false);
  if (r.stopped_by !== "completed") item(`Stopped by the ${r.stopped_by.replace("_", " ")}`);
  el.replaceChildren(list);
}
