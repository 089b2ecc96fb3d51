// Where a label goes inside a shape: the pole of inaccessibility (the inside point farthest from the outline),
// found by the quadtree search of Agafonkin's polylabel. A centroid can fall outside a C-shaped territory or in
// a bay; this point never does.

type Ring = [number, number][];
type Polygon = Ring[];

interface Cell {
  x: number;
  y: number;
  h: number; // half the cell's size
  d: number; // distance from the centre to the polygon (negative outside)
  max: number; // the best distance any point of the cell can have
}

/** The pole of inaccessibility of a polygon (outer ring first, then holes), to within `precision`. */
export function poleOfInaccessibility(polygon: Polygon, precision: number): [number, number] {
  const outer = polygon[0];
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x, y] of outer) {
    minX = Math.min(minX, x);
    minY = Math.min(minY, y);
    maxX = Math.max(maxX, x);
    maxY = Math.max(maxY, y);
  }
  const size = Math.min(maxX - minX, maxY - minY);
  if (size === 0 || outer.length < 3) return [minX, minY];
  const cell = (x: number, y: number, h: number): Cell => {
    const d = signedDistance(x, y, polygon);
    return { x, y, h, d, max: d + h * Math.SQRT2 };
  };
  const queue: Cell[] = [];
  for (let x = minX; x < maxX; x += size) for (let y = minY; y < maxY; y += size) push(queue, cell(x + size / 2, y + size / 2, size / 2));
  let best = centroidCell(polygon, cell);
  const box = cell(minX + (maxX - minX) / 2, minY + (maxY - minY) / 2, 0);
  if (box.d > best.d) best = box;
  while (queue.length) {
    const c = pop(queue);
    if (c.d > best.d) best = c;
    if (c.max - best.d <= precision) continue;
    const h = c.h / 2;
    push(queue, cell(c.x - h, c.y - h, h));
    push(queue, cell(c.x + h, c.y - h, h));
    push(queue, cell(c.x - h, c.y + h, h));
    push(queue, cell(c.x + h, c.y + h, h));
  }
  return [best.x, best.y];
}

/** Area of a ring (shoelace), positive or negative by winding. */
export function ringArea(ring: Ring): number {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += (ring[j][0] - ring[i][0]) * (ring[j][1] + ring[i][1]);
  return a / 2;
}

function centroidCell(polygon: Polygon, cell: (x: number, y: number, h: number) => Cell): Cell {
  const ring = polygon[0];
  let area = 0;
  let x = 0;
  let y = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [ax, ay] = ring[i];
    const [bx, by] = ring[j];
    const f = ax * by - bx * ay;
    x += (ax + bx) * f;
    y += (ay + by) * f;
    area += f * 3;
  }
  return area === 0 ? cell(ring[0][0], ring[0][1], 0) : cell(x / area, y / area, 0);
}

function signedDistance(x: number, y: number, polygon: Polygon): number {
  let inside = false;
  let best = Infinity;
  for (const ring of polygon) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const a = ring[i];
      const b = ring[j];
      if (a[1] > y !== b[1] > y && x < ((b[0] - a[0]) * (y - a[1])) / (b[1] - a[1]) + a[0]) inside = !inside;
      best = Math.min(best, segmentDistanceSquared(x, y, a, b));
    }
  }
  return (inside ? 1 : -1) * Math.sqrt(best);
}

function segmentDistanceSquared(px: number, py: number, a: [number, number], b: [number, number]): number {
  let x = a[0];
  let y = a[1];
  let dx = b[0] - x;
  let dy = b[1] - y;
  if (dx !== 0 || dy !== 0) {
    const t = ((px - x) * dx + (py - y) * dy) / (dx * dx + dy * dy);
    if (t > 1) {
      x = b[0];
      y = b[1];
    } else if (t > 0) {
      x += dx * t;
      y += dy * t;
    }
  }
  dx = px - x;
  dy = py - y;
  return dx * dx + dy * dy;
}

// A binary max-heap on `max`: the most promising cell first.
function push(heap: Cell[], c: Cell): void {
  heap.push(c);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent].max >= c.max) break;
    heap[i] = heap[parent];
    i = parent;
  }
  heap[i] = c;
}

function pop(heap: Cell[]): Cell {
  const top = heap[0];
  const last = heap.pop()!;
  if (heap.length) {
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      const at = (k: number) => (k === i ? last : heap[k]);
      if (l < heap.length && heap[l].max > at(m).max) m = l;
      if (r < heap.length && heap[r].max > at(m).max) m = r;
      if (m === i) break;
      heap[i] = heap[m];
      i = m;
    }
    heap[i] = last;
  }
  return top;
}
