// Numbers and times as people read them: 1.1 M, +50 k, 12.3%, and a moment shown in a named time zone.

/** 1.1 M, 950 k, 9,500, 12.5: short amounts for panels and tables. */
export function formatAmount(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(1)} B`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)} M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(0)} k`;
  if (Number.isInteger(v)) return v.toLocaleString("en-US");
  return v.toFixed(1);
}

/** A metric's value as people read it: a utilization (a fraction) as a percentage, anything else as an amount. */
export function formatMetric(metric: string, v: number): string {
  return metric === "utilization" || metric.endsWith("_share") ? formatPercent(v) : formatAmount(v);
}

/**
 * Numbers inside a text written by a service ("114735000 (tolerance +-5%)", "1.14735e+08"): large or
 * scientific-notation numbers become short amounts (114.7 M); small ones, percentages and ids stay as they are.
 */
export function humanizeNumbers(text: string): string {
  return text.replace(/(?<![\w.-])-?\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?(?![\w%.])/gi, (match) => {
    const v = Number(match.replace(/,/g, ""));
    if (!Number.isFinite(v) || (Math.abs(v) < 1e4 && !/e/i.test(match))) return match;
    return Math.abs(v) < 1e4 ? String(Number(v.toPrecision(3))) : formatAmount(Number(v.toPrecision(4)));
  });
}

/** An amount with its sign: +50 k, −1.2 M, ±0. */
export function formatChange(v: number): string {
  if (v === 0) return "±0";
  return `${v > 0 ? "+" : "−"}${formatAmount(Math.abs(v))}`;
}

/** 12.3% from a fraction (0.123); `signed` puts + or − in front. */
export function formatPercent(fraction: number, signed = false): string {
  const text = `${Math.abs(fraction * 100).toFixed(1)}%`;
  if (!signed) return fraction < 0 ? `−${text}` : text;
  return fraction === 0 ? `±${text}` : `${fraction > 0 ? "+" : "−"}${text}`;
}

/** The browser's own IANA time zone (e.g. Europe/Paris). */
export function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** Every IANA zone the browser knows, the browser's own first. */
export function timeZones(): string[] {
  const own = browserZone();
  const all = (Intl as unknown as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.("timeZone") ?? [];
  return [own, ...all.filter((z) => z !== own && z !== "UTC"), ...(own === "UTC" ? [] : ["UTC"])];
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** "Jan 4, 2027, 8:00 AM CST": an instant (ISO 8601 with offset) as the clock reads in `zone`. */
export function formatWhen(iso: string | null | undefined, zone: string = browserZone()): string {
  if (!iso) return "–";
  // An instant without an offset is UTC (as the services store them), never the browser's local time.
  const date = new Date(/(Z|[+-]\d{2}:?\d{2})$/.test(iso) ? iso : `${iso}Z`);
  if (Number.isNaN(date.getTime())) return iso;
  const text = new Intl.DateTimeFormat("en-US", {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone: isTimeZone(zone) ? zone : "UTC",
  }).format(date);
  return `${plainSpaces(text)} ${zoneAbbreviation(date, zone)}`;
}

function zoneAbbreviation(date: Date, zone: string): string {
  const part = new Intl.DateTimeFormat("en-US", { timeZone: isTimeZone(zone) ? zone : "UTC", timeZoneName: "short" })
    .formatToParts(date)
    .find((p) => p.type === "timeZoneName");
  return part?.value ?? zone;
}

/** The wall clock of `zone` at `date` as a datetime-local value (YYYY-MM-DDTHH:MM). */
export function wallClock(date: Date, zone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

/** "Jan 4, 2027, 8:00 AM" from a local date-time with no offset (as a schedule's `local_time` may be). */
export function formatLocal(local: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(local);
  if (!m) return local;
  const [, y, mo, d, h, mi, s] = m;
  const utc = new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +(s ?? 0)));
  const text = new Intl.DateTimeFormat("en-US", {
    dateStyle: "medium",
    timeStyle: s && s !== "00" ? "medium" : "short",
    timeZone: "UTC",
  }).format(utc);
  return plainSpaces(text);
}

/** Recent ICU puts a narrow no-break space before AM / PM: plain spaces copy and search as people expect. */
function plainSpaces(text: string): string {
  return text.replace(/[\u202f\u00a0]/g, " ");
}
