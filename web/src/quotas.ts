// Quotas per territory from metrics-service's quota plans (GET /metrics/v1/sales-forces/{sf}/quota-plans and
// .../quota-plans/{period}/quotas?alignment_id=). The territory panel shows each territory's quota for the chosen
// period; for a draft, the quota publishing it would give and the change against the active alignment.

import type { Alignment, Api } from "./api";
import { $, errorText, fillSelect, h } from "./dom";
import { formatAmount } from "./format";
import { OpenApiPaths } from "./services";

export interface QuotaPlan {
  period: string;
  goal: number;
  starts_on: string;
  ends_on: string;
  method: string;
  potential_weight?: number | null;
}

export interface TerritoryQuota {
  territory_code: string;
  name: string;
  parent_code: string | null;
  is_leaf: boolean;
  potential: number | null;
  revenue: number | null;
  share: number | null;
  base_quota: number;
  adjustment: number;
  quota: number;
  attainment: number | null;
}

export interface QuotaSheet {
  period: string;
  alignment_id: string;
  goal: number;
  territories: TerritoryQuota[];
}

/** GET .../quotas/compare?alignment_id=<draft>: per territory, the quota as it stands, the draft's, the change. */
export interface QuotaCompare {
  before_alignment_id: string | null;
  after_alignment_id: string;
  territories: { territory_code: string; name: string; before: number; after: number; change: number }[];
}

/** One territory's quota as the panel shows it; `before` and `change` only for a draft against the active one. */
export interface QuotaFigure {
  quota: number;
  share: number | null;
  before: number | null;
  change: number | null;
}

export interface QuotaHost {
  api: Api;
  current(): Alignment | null;
  activeAlignment(): Alignment | null;
  /** New figures: redraw the territory panel. */
  changed(): void;
}

export class QuotaPanel {
  available: boolean | null = null;
  plans: QuotaPlan[] = [];
  byCode = new Map<string, QuotaFigure>();
  private readonly paths: OpenApiPaths;
  private readonly root: HTMLElement;
  private request = 0;

  constructor(private readonly host: QuotaHost) {
    this.paths = new OpenApiPaths(host.api, "metrics");
    this.root = h(
      "div",
      { id: "quota-controls", class: "quota-controls", hidden: true },
      h("label", {}, "Quotas for ", h("select", { id: "quota-period" })),
      h("p", { class: "hint", id: "quota-note" }),
    );
    $("balance-source").after(this.root);
    $("quota-period").addEventListener("change", () => void this.refresh());
  }

  get period(): string {
    return $<HTMLSelectElement>("quota-period").value;
  }

  async refresh(): Promise<void> {
    const request = ++this.request;
    const current = this.host.current();
    if (this.available === null) this.available = await this.paths.hasSuffix("/quotas", "get");
    if (!this.available || !current) return this.clear();
    const sf = encodeURIComponent(current.sales_force);
    try {
      const data = await this.host.api.get<QuotaPlan[] | { items: QuotaPlan[] }>(`/metrics/v1/sales-forces/${sf}/quota-plans`);
      if (request !== this.request) return;
      this.plans = (Array.isArray(data) ? data : data.items).sort((a, b) => b.starts_on.localeCompare(a.starts_on));
      if (this.plans.length === 0) return this.clear();
      const keep = this.plans.some((p) => p.period === this.period) ? this.period : defaultPeriod(this.plans);
      fillSelect($("quota-period"), this.plans.map((p) => [p.period, periodLabel(p)]), keep);
      this.root.hidden = false;
      const plan = this.plans.find((p) => p.period === keep)!;
      const base = `/metrics/v1/sales-forces/${sf}/quota-plans/${encodeURIComponent(keep)}/quotas`;
      const id = encodeURIComponent(current.id);
      // A draft: what publishing it today would give, against the quotas as they stand. Otherwise its own quotas
      // (the active alignment's as they stand; another one's as if it were in effect from today).
      const active = this.host.activeAlignment();
      const [sheet, compared] = await Promise.all([
        this.host.api.get<QuotaSheet>(current.id === active?.id ? base : `${base}?alignment_id=${id}`),
        current.state === "draft" ? this.host.api.get<QuotaCompare>(`${base}/compare?alignment_id=${id}`) : null,
      ]);
      if (request !== this.request) return;
      this.byCode = figures(sheet, compared);
      // What the figures on screen are of (the browser tests wait for them).
      this.root.dataset.period = keep;
      this.root.dataset.alignmentId = current.id;
      $("quota-note").textContent = noteText(plan, sheet, compared?.before_alignment_id ? active : null);
    } catch (e) {
      if (request !== this.request) return;
      this.byCode.clear();
      $("quota-note").textContent = `Quotas unavailable: ${errorText(e)}`;
    }
    this.host.changed();
  }

  private clear(): void {
    this.root.hidden = true;
    const had = this.byCode.size > 0;
    this.byCode.clear();
    if (had) this.host.changed();
  }
}

/** Per territory code: its quota, and with a comparison (a draft's) the quota before and the change. */
export function figures(sheet: QuotaSheet, compared: QuotaCompare | null): Map<string, QuotaFigure> {
  const changes = new Map((compared?.before_alignment_id ? compared.territories : []).map((t) => [t.territory_code, t]));
  return new Map(
    sheet.territories.map((t) => {
      const c = changes.get(t.territory_code);
      return [t.territory_code, { quota: c?.after ?? t.quota, share: t.share, before: c?.before ?? null, change: c?.change ?? null }];
    }),
  );
}

function defaultPeriod(plans: QuotaPlan[]): string {
  const today = new Date().toISOString().slice(0, 10);
  return (plans.find((p) => p.starts_on <= today && today <= p.ends_on) ?? plans[0]).period;
}

function periodLabel(p: QuotaPlan): string {
  return `${p.period} (${formatDay(p.starts_on)} – ${formatDay(p.ends_on)})`;
}

function formatDay(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return day;
  return new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeZone: "UTC" }).format(d);
}

function noteText(plan: QuotaPlan, sheet: QuotaSheet, active: Alignment | null): string {
  const method = plan.method === "blend" && typeof plan.potential_weight === "number"
    ? `a blend (${Math.round(plan.potential_weight * 100)}% potential)`
    : plan.method;
  const against = active ? ` Changes: publishing this draft today, against the quotas as they stand (“${active.name}”).` : "";
  return `Goal ${formatAmount(sheet.goal)} split by ${method}.${against}`;
}
