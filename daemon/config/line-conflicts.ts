import { gpioLinesOf, viewsOf, type LineConfig } from "./schema.js";
import type { LinesProblem } from "./lines.js";

/**
 * What two lines of one station may not share: they drive one GPIO driver
 * (the station opens its chip once), so a line name or pin belongs to one
 * line; and a camera device is read by one capture thread (of one view of
 * one line, on a station with one line too).
 */
export function crossLineProblems(lines: LineConfig[]): LinesProblem[] {
  const problems: LinesProblem[] = [];
  if (lines.length < 2) return cameraProblems(lines);
  const first = lines[0]!;
  const gpioNames = new Map<string, string>();
  const pins = new Map<string, string>();
  for (const c of lines) {
    const name = c.station.line;
    const at = (...path: (string | number)[]) => ["lines", name, ...path];
    if (JSON.stringify(c.actuation.gpio) !== JSON.stringify(first.actuation.gpio)) {
      problems.push({ path: at("actuation", "gpio"), message: `every line drives the station's one GPIO driver: ${JSON.stringify(first.actuation.gpio)} as line '${first.station.line}' has it` });
    }
    for (const l of gpioLinesOf(c)) {
      const other = gpioNames.get(l.name);
      if (other !== undefined && other !== name) problems.push({ path: at("actuation"), message: `GPIO line name '${l.name}' is line '${other}''s too: each line names its own${l.name === "reject" ? " (actuation.reject.name is 'reject' unless set)" : ""}` });
      gpioNames.set(l.name, name);
      if (l.pin === undefined) continue;
      const pinOther = pins.get(String(l.pin));
      if (pinOther !== undefined && pinOther !== name) problems.push({ path: at("actuation"), message: `GPIO pin ${l.pin} is wired to line '${pinOther}' too` });
      pins.set(String(l.pin), name);
    }
  }
  return [...problems, ...cameraProblems(lines)];
}

/** A camera device is read by one capture thread: of one view of one line. */
function cameraProblems(lines: LineConfig[]): LinesProblem[] {
  const problems: LinesProblem[] = [];
  const devices = new Map<string, string>();
  for (const c of lines) {
    for (const v of viewsOf(c)) {
      const device = cameraDevice(v.camera);
      if (device === undefined) continue;
      const where = lines.length > 1 ? `line '${c.station.line}'` : "";
      const here = c.views ? `${where}${where ? " " : ""}view '${v.name}'` : where;
      const other = devices.get(device);
      const path = [...(lines.length > 1 ? ["lines", c.station.line] : []), ...(c.views ? ["views", v.name] : []), "camera"];
      if (other !== undefined) problems.push({ path, message: `camera ${device} is ${other}'s: a device is read by one capture thread` });
      devices.set(device, here);
    }
  }
  return problems;
}

function cameraDevice(c: LineConfig["camera"]): string | undefined {
  if (c.type === "v4l2") return typeof c.device === "number" ? `/dev/video${c.device}` : c.device;
  return undefined;
}
