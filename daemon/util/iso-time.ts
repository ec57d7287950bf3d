/**
 * An ISO 8601 date or date-time, checked field by field: Date.parse takes
 * 2024-02-30 and means March 1st, and takes 25:00 as well. Without an offset
 * a date is midnight UTC and a date-time is the station's local time, as
 * Date.parse reads them. Epoch milliseconds, or the reason it is not a time.
 */
export function parseIsoTime(text: string): { ms: number } | { error: string } {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(text);
  if (!m) return { error: "not in ISO 8601 form" };
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12) return { error: `month ${mo} does not exist` };
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > days) return { error: `${y}-${mo} has no day ${d}` };
  if (h === undefined) return { ms: Date.UTC(year, month - 1, day) };
  const [hour, minute, second] = [Number(h), Number(mi), Number(s ?? 0)];
  if (hour > 23 || minute > 59 || second > 59) return { error: `${h}:${mi}${s ? `:${s}` : ""} is not a time of day` };
  const ms = Math.floor(Number(`0.${frac ?? 0}`) * 1000);
  if (zone === undefined) return { ms: new Date(year, month - 1, day, hour, minute, second, ms).getTime() };
  let offset = 0;
  if (zone !== "Z") {
    const [oh, om] = [Number(zone.slice(1, 3)), Number(zone.slice(-2))];
    if (oh > 23 || om > 59) return { error: `offset ${zone} does not exist` };
    offset = (zone[0] === "-" ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  return { ms: Date.UTC(year, month - 1, day, hour, minute, second, ms) - offset };
}
