// Scheduled publishing (geo-service: POST /geo/v1/alignments/{id}/schedule, GET /geo/v1/schedules, POST
// /geo/v1/schedules/{id}/cancel). "Publish on…" takes a wall-clock time and an explicit IANA zone (the browser's
// by default, and shown); the sales force's pending schedules are listed with their own local time and zone.
// The chosen zone is also the one the page shows every date in.

import type { Alignment, Api } from "./api";
import { $, errorText, fillSelect, h } from "./dom";
import { access } from "./editing";
import { browserZone, formatLocal, formatWhen, timeZones, wallClock } from "./format";
import { OpenApiPaths } from "./services";

export interface Schedule {
  id: string;
  alignment_id: string;
  sales_force: string;
  effective_at: string;
  local_time: string;
  time_zone: string;
  state: "scheduled" | "done" | "cancelled" | "failed";
  created_by: string | null;
  created_at: string;
  done_at: string | null;
  done_by?: string | null;
  outcome: string | null;
}

export interface ScheduleHost {
  api: Api;
  current(): Alignment | null;
  alignments(): Alignment[];
  say(text: string, error?: boolean): void;
  /** The display zone changed: dates elsewhere on the page are redrawn. */
  zoneChanged(): void;
  /** A schedule of the sales force was carried out: the alignments changed state. */
  published(schedule: Schedule): Promise<void>;
}

const SOON_MS = 2 * 60_000;

export class SchedulePanel {
  available: boolean | null = null;
  pending: Schedule[] = [];
  private salesForce: string | null = null;
  private poll: number | null = null;
  private readonly paths: OpenApiPaths;
  private readonly root: HTMLElement;
  private gated = { draft: false, allowed: false };

  constructor(private readonly host: ScheduleHost) {
    this.paths = new OpenApiPaths(host.api, "geo");
    const own = browserZone();
    this.root = h(
      "div",
      { id: "schedule", class: "schedule", hidden: true },
      h("h3", { class: "subhead" }, "Publish on…"),
      h(
        "div",
        { class: "tools" },
        h("label", {}, "Publish on ", h("input", { type: "datetime-local", id: "schedule-at", step: "1" })),
        h("label", {}, "Time zone ", h("select", { id: "schedule-zone" })),
      ),
      h("p", { class: "hint", id: "schedule-zone-note" }),
      h("button", { type: "button", id: "schedule-publish" }, "Schedule publish"),
      h("h3", { class: "subhead", id: "schedule-list-h" }, "Scheduled publishes"),
      h("ul", { id: "schedule-list", class: "schedule-list", "aria-labelledby": "schedule-list-h" }),
    );
    $("publish-summary").before(this.root);
    fillSelect($("schedule-zone"), timeZones().map((z) => [z, z === own ? `${z} (browser)` : z]), own);
    $<HTMLInputElement>("schedule-at").value = nextHour(own);
    this.showZone();
    $("schedule-zone").addEventListener("change", () => {
      this.showZone();
      this.renderList();
      this.host.zoneChanged();
    });
    $("schedule-publish").addEventListener("click", () => void this.schedule());
  }

  /** The zone chosen for "Publish on…" and for showing dates. */
  zone(): string {
    return $<HTMLSelectElement>("schedule-zone").value || browserZone();
  }

  private showZone(): void {
    const zone = this.zone();
    $("schedule-zone-note").textContent =
      zone === browserZone() ? `Times in ${zone} (your browser's zone).` : `Times in ${zone}; your browser is in ${browserZone()}.`;
  }

  /** Enable scheduling for a draft that may be published (approved where approval is required). */
  gate(draft: boolean, allowed: boolean): void {
    this.gated = { draft, allowed };
    const mine = this.pending.find((s) => s.alignment_id === this.host.current()?.id);
    const mayEdit = access().edit;
    $<HTMLButtonElement>("schedule-publish").disabled = !draft || !allowed || !!mine || !mayEdit;
    $("schedule-publish").title = !mayEdit
      ? "Scheduling a publish needs a planner or admin token."
      : !draft
        ? "Only a draft can be scheduled."
        : !allowed
          ? "Approval required before the draft can be scheduled."
          : mine
            ? "This draft is already scheduled: cancel that schedule to choose another time."
            : "";
  }

  async refresh(): Promise<void> {
    this.stopPolling();
    const current = this.host.current();
    if (this.available === null) this.available = await this.paths.hasSuffix("/schedule", "post");
    this.root.hidden = !this.available || !current;
    if (!this.available || !current) return;
    this.salesForce = current.sales_force;
    const before = new Map(this.pending.map((s) => [s.id, s]));
    try {
      const q = new URLSearchParams({ sales_force: current.sales_force, state: "scheduled" });
      const data = await this.host.api.get<Schedule[] | { items: Schedule[] }>(`/geo/v1/schedules?${q}`);
      if (this.salesForce !== current.sales_force) return;
      this.pending = (Array.isArray(data) ? data : data.items)
        .filter((s) => s.state === "scheduled")
        .sort((a, b) => a.effective_at.localeCompare(b.effective_at));
    } catch (e) {
      this.host.say(`Schedules unavailable: ${errorText(e)}`, true);
      return;
    }
    this.renderList();
    this.gate(this.gated.draft, this.gated.allowed);
    await this.reportFinished([...before.values()].filter((s) => !this.pending.some((p) => p.id === s.id)));
    if (this.pending.length) {
      const next = Date.parse(this.pending[0].effective_at) - Date.now();
      this.poll = window.setTimeout(() => void this.refresh(), next < SOON_MS ? 1500 : 30_000);
    }
  }

  private stopPolling(): void {
    if (this.poll !== null) window.clearTimeout(this.poll);
    this.poll = null;
  }

  /** Schedules that left the pending list: say what became of them (done, failed, or cancelled elsewhere). */
  private async reportFinished(gone: Schedule[]): Promise<void> {
    for (const old of gone) {
      let s: Schedule;
      try {
        s = await this.host.api.get<Schedule>(`/geo/v1/schedules/${old.id}`);
      } catch {
        continue;
      }
      const name = this.nameOf(s.alignment_id);
      if (s.state === "done") {
        this.host.say(`Published on schedule: “${name}” is now the active alignment of ${s.sales_force}.`);
        await this.host.published(s);
      } else if (s.state === "failed") {
        this.host.say(`The scheduled publish of “${name}” failed: ${outcomeText(s.outcome)}`, true);
      }
    }
  }

  private nameOf(alignmentId: string): string {
    return this.host.alignments().find((a) => a.id === alignmentId)?.name ?? alignmentId;
  }

  renderList(): void {
    const zone = this.zone();
    const list = $("schedule-list");
    if (this.pending.length === 0) {
      list.replaceChildren(h("li", { class: "hint empty" }, "No publish scheduled for this sales force."));
      return;
    }
    list.replaceChildren(
      ...this.pending.map((s) => {
        const here = s.time_zone === zone ? "" : ` (${formatWhen(s.effective_at, zone)})`;
        const cancel = h("button", { type: "button", class: "cancel", "aria-label": `Cancel the scheduled publish of ${this.nameOf(s.alignment_id)}` }, "Cancel");
        cancel.addEventListener("click", () => void this.cancel(s));
        return h(
          "li",
          { "data-schedule-id": s.id, "data-alignment-id": s.alignment_id },
          h("b", {}, `“${this.nameOf(s.alignment_id)}”`),
          " on ",
          h("time", { datetime: s.effective_at, class: "local" }, `${formatLocal(s.local_time)} ${s.time_zone}`),
          here,
          s.created_by ? ` · by ${s.created_by}` : "",
          " ",
          cancel,
        );
      }),
    );
  }

  private async schedule(): Promise<void> {
    const current = this.host.current();
    if (!current) return;
    const at = $<HTMLInputElement>("schedule-at").value;
    if (!at) {
      this.host.say("Choose the date and time to publish on.", true);
      $("schedule-at").focus();
      return;
    }
    const zone = this.zone();
    const effective = at.length === 16 ? `${at}:00` : at;
    try {
      const s = await this.host.api.request<Schedule>(
        "POST",
        `/geo/v1/alignments/${current.id}/schedule`,
        { effective_at: effective, time_zone: zone },
        { "If-Match": `"${current.version}"` }, // the version on screen (and approved) is the one published
      );
      this.host.say(`“${current.name}” will be published on ${formatLocal(s.local_time)} ${s.time_zone}.`);
    } catch (e) {
      this.host.say(`Not scheduled: ${errorText(e)}`, true);
    }
    await this.refresh();
  }

  private async cancel(s: Schedule): Promise<void> {
    try {
      await this.host.api.request("POST", `/geo/v1/schedules/${s.id}/cancel`);
      this.host.say(`Cancelled the scheduled publish of “${this.nameOf(s.alignment_id)}”.`);
    } catch (e) {
      this.host.say(errorText(e), true);
    }
    await this.refresh();
  }
}

/** The start of the next hour as the clock in `zone` reads it. */
function nextHour(zone: string): string {
  const d = new Date(Date.now() + 3_600_000);
  return `${wallClock(d, zone).slice(0, 14)}00`;
}

function outcomeText(outcome: unknown): string {
  if (!outcome) return "no reason given";
  if (typeof outcome === "string") return outcome;
  const o = outcome as { detail?: string; title?: string; error?: string };
  return o.detail ?? o.title ?? o.error ?? JSON.stringify(outcome);
}
