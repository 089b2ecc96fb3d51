// The public HTTP APIs of the three services, as the embedded mode mounts them (/geo, /assignment, /metrics).
// Every request carries the caller's bearer token (which names the tenant); errors are RFC 9457 problem+json and
// surface as ApiError, and a 401 also asks for a new token (with the reason in plain words).

import { unauthorizedText } from "./auth";

export interface Problem {
  title?: string;
  detail?: string;
  status?: number;
  errors?: { field?: string; reason?: string }[];
  unit_ids?: string[];
  current_version?: number;
  [key: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail || problem.title || `HTTP ${status}`);
  }
}

export interface Alignment {
  id: string;
  name: string;
  sales_force: string;
  layer_id: string;
  state: "draft" | "active" | "archived";
  version: number;
  copied_from: string | null;
}

export interface Territory {
  id: string;
  code: string;
  name: string;
  parent_id: string | null;
  colour: string | null;
  alignment_id: string | null;
}

export interface Membership {
  unit_id: string;
  territory_id: string | null;
  locked: boolean;
}

/** What the map knows of a unit before drawing it: its area, a point inside it, and its name and attributes. */
export interface UnitFacts {
  area: number;
  centre: [number, number];
  props: Record<string, unknown>;
}

export interface Layer {
  id: string;
  name: string;
  attributes: string[];
  unit_count: number;
  bbox: number[];
  /** Where a map of the layer opens: west, south, east, north (null for a layer stored before it was known). */
  frame?: number[] | null;
}

export type Geometry = { type: string; coordinates: unknown };
export interface Feature {
  type: "Feature";
  id?: string;
  properties: Record<string, unknown>;
  geometry: Geometry | null;
}
export interface FeatureCollection {
  type: "FeatureCollection";
  features: Feature[];
  next?: string | null;
}

export class Api {
  constructor(
    private readonly token: string,
    private readonly onUnauthorized: (reason: string) => void = () => {},
  ) {}

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const init: RequestInit = { method, headers: { Authorization: `Bearer ${this.token}`, ...headers } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)["Content-Type"] = "application/json";
    }
    const response = await fetch(path, init);
    const text = await response.text();
    const data: unknown = text ? safeJson(text) : null;
    if (!response.ok) {
      const problem = (data && typeof data === "object" ? data : { title: text }) as Problem;
      if (response.status === 401) this.onUnauthorized(unauthorizedText(problem.detail));
      throw new ApiError(response.status, problem);
    }
    return data as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  /** A layer's vector tile (null: no unit reaches it). */
  async tile(layerId: string, z: number, x: number, y: number, signal?: AbortSignal): Promise<ArrayBuffer | null> {
    const response = await fetch(`/geo/v1/layers/${layerId}/tiles/${z}/${x}/${y}.mvt`, {
      headers: { Authorization: `Bearer ${this.token}` },
      signal,
    });
    if (response.status === 204) return null;
    if (!response.ok) throw new ApiError(response.status, { title: await response.text() });
    return response.arrayBuffer();
  }

  alignments(salesForce?: string): Promise<Alignment[]> {
    const q = salesForce ? `?sales_force=${encodeURIComponent(salesForce)}` : "";
    return this.get<Alignment[]>(`/geo/v1/alignments${q}`);
  }

  alignment(id: string): Promise<Alignment> {
    return this.get<Alignment>(`/geo/v1/alignments/${id}`);
  }

  createDraft(name: string, salesForce: string, copyFrom: string): Promise<Alignment> {
    return this.request<Alignment>("POST", "/geo/v1/alignments", { name, sales_force: salesForce, copy_from: copyFrom });
  }

  memberships(alignmentId: string): Promise<Membership[]> {
    return this.get<Membership[]>(`/geo/v1/alignments/${alignmentId}/units`);
  }

  async territories(alignmentId: string): Promise<Territory[]> {
    const out: Territory[] = [];
    let url: string | null = `/geo/v1/territories?alignment_id=${alignmentId}&limit=1000`;
    while (url) {
      const page: { items: Territory[]; next: string | null } = await this.get(url);
      out.push(...page.items);
      url = page.next ? relative(page.next) : null;
    }
    return out;
  }

  territoryShapes(alignmentId: string, zoom: number): Promise<FeatureCollection> {
    return this.get<FeatureCollection>(`/geo/v1/alignments/${alignmentId}/territories.geojson?zoom=${zoom}`);
  }

  layer(layerId: string): Promise<Layer> {
    return this.get<Layer>(`/geo/v1/layers/${layerId}`);
  }

  /** Every unit of a layer, simplified for `zoom`, following the `next` links. */
  async units(layerId: string, zoom: number): Promise<Feature[]> {
    const out: Feature[] = [];
    let url: string | null = `/geo/v1/layers/${layerId}/units.geojson?zoom=${zoom}&limit=5000`;
    while (url) {
      const page: FeatureCollection = await this.get(url);
      out.push(...page.features);
      url = page.next ? relative(page.next) : null;
    }
    return out;
  }

  /** Every unit's name, area, centre and attributes (no geometry), in one compact response: enough to frame the
   * map, select by box or lasso, colour by attribute and name units before any shape loads. */
  async unitFacts(layerId: string): Promise<Map<string, UnitFacts>> {
    const c: {
      unit_ids: string[];
      names: (string | null)[];
      lon: number[];
      lat: number[];
      area_km2: number[];
      attributes: Record<string, (number | null)[]>;
    } = await this.get(`/geo/v1/layers/${layerId}/unit-facts`);
    const out = new Map<string, UnitFacts>();
    const attributes = Object.entries(c.attributes);
    c.unit_ids.forEach((id, i) => {
      const props: Record<string, unknown> = { unit_id: id };
      if (c.names[i]) props.name = c.names[i];
      for (const [name, values] of attributes) props[name] = values[i];
      out.set(id, { area: c.area_km2[i], centre: [c.lon[i], c.lat[i]], props });
    });
    return out;
  }

  adjacency(layerId: string): Promise<{ edges: [string, string][] }> {
    return this.get(`/geo/v1/layers/${layerId}/adjacency`);
  }

  move(alignmentId: string, version: number, unitIds: string[], territoryId: string | null) {
    return this.request<{ alignment: Alignment; moved: number }>(
      "POST",
      `/geo/v1/alignments/${alignmentId}/moves`,
      { unit_ids: unitIds, territory_id: territoryId },
      { "If-Match": `"${version}"` },
    );
  }

  lock(alignmentId: string, version: number, unitIds: string[], locked: boolean): Promise<Alignment> {
    return this.request<Alignment>(
      "POST",
      `/geo/v1/alignments/${alignmentId}/locks`,
      { unit_ids: unitIds, locked },
      { "If-Match": `"${version}"` },
    );
  }

  /** Publish a draft; `overrideApproval` (admins only) publishes without the approval its sales force requires. */
  publish(alignmentId: string, version: number, overrideApproval = false): Promise<Alignment> {
    const q = overrideApproval ? "?override_approval=true" : "";
    return this.request<Alignment>("POST", `/geo/v1/alignments/${alignmentId}/publish${q}`, undefined, {
      "If-Match": `"${version}"`,
    });
  }
}

/** `next` links are absolute URLs of the service; keep them on this page's origin and prefix. */
export function relative(url: string): string {
  try {
    const u = new URL(url, window.location.href);
    return u.pathname + u.search;
  } catch {
    return url;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { title: text };
  }
}
