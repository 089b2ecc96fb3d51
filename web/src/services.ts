// Adapters for the APIs of assignment-service and metrics-service. Each endpoint is found in its service's OpenAPI
// document first (feature check), so the map works, with those parts hidden or marked unavailable, without it.

import { Api, relative } from "./api";
import type { AccountCluster, ClusterSource } from "./clusters";
import type { RepChange } from "./realignment";

export interface TerritoryBalance {
  territory_id: string;
  value: number | null;
  target: number | null;
  deviation_pct: number | null;
  band_pct: number;
  status: "under" | "over" | "balanced" | null;
  metrics: Record<string, number>;
}

export interface BalanceReport {
  metric: string;
  metrics: string[];
  target: number | null;
  territories: Map<string, TerritoryBalance>;
}

export interface Point {
  id: string;
  lon: number;
  lat: number;
  label: string;
  value: number;
}

export interface PublishPreview {
  accounts_moved: number;
  potential_moved: number;
  territories: { territory_code: string | null; accounts_gained: number; accounts_lost: number }[];
  reps?: RepChange[];
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** The paths and methods a service's OpenAPI document lists (empty when the service or document is absent). */
export class OpenApiPaths {
  private paths: Promise<Record<string, Record<string, unknown>>> | null = null;

  constructor(
    private readonly api: Api,
    private readonly service: string,
  ) {}

  private load(): Promise<Record<string, Record<string, unknown>>> {
    this.paths ??= this.api
      .get<{ paths?: Record<string, Record<string, unknown>> }>(`/${this.service}/openapi.json`)
      .then((doc) => doc.paths ?? {})
      .catch(() => ({}));
    return this.paths;
  }

  async has(path: string, method: "get" | "post"): Promise<boolean> {
    return method in ((await this.load())[path] ?? {});
  }

  /** Whether a path ending in `suffix` (whatever its parameters are named) answers `method`. */
  async hasSuffix(suffix: string, method: "get" | "post" | "put"): Promise<boolean> {
    return Object.entries(await this.load()).some(([path, methods]) => path.endsWith(suffix) && method in methods);
  }
}

/**
 * metrics-service: `GET /metrics/v1/alignments/{id}/metrics?metric=&tolerance=` (every territory with its values,
 * utilization and deviation from the target). It learns of edits through events: `GET /metrics/v1/alignments` says
 * which geo version it has applied, so the map waits for the version it wrote before it shows the bars.
 */
export class Metrics {
  private readonly paths: OpenApiPaths;
  tolerance = 0.05;

  constructor(private readonly api: Api) {
    this.paths = new OpenApiPaths(api, "metrics");
  }

  available(): Promise<boolean> {
    return this.paths.has("/v1/alignments/{alignment_id}/metrics", "get");
  }

  async appliedVersion(alignmentId: string): Promise<number | null> {
    if (!(await this.paths.has("/v1/alignments", "get"))) return null;
    const rows = await this.api.get<{ alignment_id: string; version: number }[]>("/metrics/v1/alignments");
    return rows.find((r) => r.alignment_id === alignmentId)?.version ?? -1;
  }

  async balance(alignmentId: string, metric: string | null): Promise<BalanceReport | null> {
    if (!(await this.available())) return null;
    const q = new URLSearchParams({ tolerance: String(this.tolerance) });
    if (metric) q.set("metric", metric);
    let data: Record<string, unknown>;
    try {
      data = await this.api.get(`/metrics/v1/alignments/${encodeURIComponent(alignmentId)}/metrics?${q}`);
    } catch (e) {
      // A metric this alignment lacks (another layer): ask again with the service's default.
      if (metric) return this.balance(alignmentId, null);
      throw e;
    }
    const metrics = Array.isArray(data.metrics) ? (data.metrics as string[]) : [];
    if (!metric && metrics.length) return this.balance(alignmentId, pickMetric(metrics));
    const balance = (data.balance ?? null) as Record<string, unknown> | null;
    const band = (num(balance?.tolerance) ?? this.tolerance) * 100;
    const territories = new Map<string, TerritoryBalance>();
    for (const row of (data.territories ?? []) as Record<string, unknown>[]) {
      const id = String(row.territory_id);
      const values = (row.values ?? {}) as Record<string, number>;
      const flat: Record<string, number> = {};
      if (metric && num(values[metric]) !== null) flat[metric] = values[metric];
      for (const k of ["utilization"]) if (num(row[k]) !== null) flat[k] = row[k] as number;
      const deviation = num(row.deviation_pct);
      const status = deviation === null ? null : deviation > band ? "under" : deviation < -band ? "over" : "balanced";
      territories.set(id, {
        territory_id: id,
        value: metric ? num(values[metric]) : null,
        target: num(balance?.target),
        deviation_pct: deviation,
        band_pct: band,
        status,
        metrics: flat,
      });
    }
    return { metric: metric ?? "", metrics, target: num(balance?.target), territories };
  }
}

export function pickMetric(metrics: string[]): string {
  return ["potential", "account_potential", "workload_hours", "population"].find((m) => metrics.includes(m)) ?? metrics[0];
}

/** assignment-service: reps (home locations), accounts with locations, publish preview, optimizer jobs. */
export class Assignment {
  private readonly paths: OpenApiPaths;

  constructor(private readonly api: Api) {
    this.paths = new OpenApiPaths(api, "assignment");
  }

  /** Accounts as points: needs a listing with coordinates (`GET /assignment/v1/accounts`), absent so far. */
  async accounts(): Promise<Point[] | null> {
    if (!(await this.paths.has("/v1/accounts", "get"))) return null;
    return this.points("/assignment/v1/accounts?limit=1000", (row) => [num(row.lon), num(row.lat), num(row.potential)]);
  }

  /** Accounts counted per grid cell by the service (`GET /assignment/v1/account-clusters`); null when absent. */
  async clusterSource(): Promise<ClusterSource | null> {
    if (!(await this.paths.has("/v1/account-clusters", "get"))) return null;
    return async (cell, bbox) => {
      const q = new URLSearchParams({ cell: cell.toPrecision(6), bbox: bbox.map((v) => v.toFixed(5)).join(",") });
      const body = await this.api.get<{ clusters: AccountCluster[] }>(`/assignment/v1/account-clusters?${q}`);
      return body.clusters;
    };
  }

  private names: Promise<Map<string, string>> | null = null;

  /** Rep external id -> name (the id where a rep has no name), fetched once. */
  repNames(): Promise<Map<string, string>> {
    this.names ??= this.reps()
      .then((reps) => new Map((reps ?? []).map((r) => [r.id, r.label || r.id])))
      .catch(() => new Map<string, string>());
    return this.names;
  }

  async reps(): Promise<Point[] | null> {
    if (!(await this.paths.has("/v1/reps", "get"))) return null;
    return this.points("/assignment/v1/reps", (row) => [num(row.home_lon), num(row.home_lat), num(row.capacity_hours)]);
  }

  async optimizerAvailable(): Promise<string | null> {
    for (const path of ["/v1/design-jobs", "/v1/optimizer-jobs", "/v1/optimize"])
      if (await this.paths.has(path, "post")) return path;
    return null;
  }

  async preview(alignmentId: string): Promise<PublishPreview | null> {
    if (!(await this.paths.has("/v1/realignments/preview", "post"))) return null;
    return this.api.request<PublishPreview>(
      "POST",
      `/assignment/v1/realignments/preview?alignment_id=${encodeURIComponent(alignmentId)}`,
    );
  }

  private async points(first: string, read: (row: Record<string, unknown>) => (number | null)[]): Promise<Point[]> {
    const out: Point[] = [];
    let url: string | null = first;
    for (let page = 0; url && page < 100; page++) {
      const data: unknown = await this.api.get(url);
      const rows = (Array.isArray(data) ? data : ((data as { items?: unknown[] }).items ?? [])) as Record<string, unknown>[];
      for (const row of rows) {
        const [lon, lat, value] = read(row);
        if (lon === null || lat === null) continue;
        out.push({ id: String(row.external_id ?? row.id), lon, lat, label: String(row.name ?? row.external_id ?? ""), value: value ?? 0 });
      }
      const next = Array.isArray(data) ? null : (data as { next?: string | null }).next;
      url = next ? relative(next) : null;
    }
    return out;
  }
}
