import assert from "node:assert/strict";
import { parseConfigText, ConfigError } from "../../daemon/config/load.js";

/** A station's sections with one synthetic line: the rest a test adds. */
export const STATION = `
station: { site: s, device: d1 }
records: { type: memory }
http: { enabled: false }
engine: { type: simulated }
camera: { type: synthetic, width: 320, height: 240, fps: 20 }
`;

/** Every problem the loader finds in `yaml`, as `path: message`; fails if it accepts it. */
export function problems(yaml: string): string[] {
  try {
    parseConfigText("t.yaml", yaml, {});
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail("the config was accepted");
}
