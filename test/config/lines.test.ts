import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfigText } from "../../daemon/config/load.js";
import { problems, STATION } from "./problems.js";

test("a file without lines: is one line named after station.line, as before", () => {
  const c = parseConfigText("t.yaml", `${STATION}`, {});
  assert.equal(c.lines, undefined);
  assert.equal(c.station.line, "line1");
});

test("lines: each line is the defaults deep-merged with its own sections, named by its key; the station's sections are shared", () => {
  const c = parseConfigText(
    "t.yaml",
    `${STATION}
lines:
  top:
    camera: { seed: 5 }
    decide: { threshold: 0.7 }
    actuation: { reject: { name: kick_top } }
  side:
    camera: { type: file, path: /tmp/x.avi }
    actuation: { reject: { name: kick_side } }
    line: { mode: triggered, travel_ms: 500 }
    trigger: { type: simulated, rate_hz: 5 }
`,
    {},
  );
  assert.deepEqual(c.lines?.map((l) => l.station.line), ["top", "side"]);
  const [top, side] = c.lines!;
  assert.equal(c.station.line, "top", "the loader's own config is the first line's");
  // Mappings merge key by key: the default's width stays, the line's seed is its own.
  assert.equal(top!.camera.type, "synthetic");
  assert.equal(top!.camera.type === "synthetic" && top!.camera.seed, 5);
  assert.equal(top!.camera.type === "synthetic" && top!.camera.width, 320);
  assert.equal(top!.decide.threshold, 0.7);
  // A section of another type replaces the default whole: no synthetic key leaks into a file camera.
  assert.equal(side!.camera.type, "file");
  assert.equal(side!.line.mode, "triggered");
  assert.equal(side!.line.travel_ms, 500);
  assert.notEqual(side!.decide.threshold, 0.7, "a line's own decide setting is not another line's");
  for (const l of c.lines!) {
    assert.equal(l.station.site, "s");
    assert.equal(l.station.device, "d1");
    assert.deepEqual(l.records, c.records);
  }
});

test("lines: what a file gets wrong is said with the line's path", () => {
  assert.deepEqual(problems(`${STATION}\nlines: []\n`), ["lines: must map each line's name to its sections, e.g. lines: { lane1: { camera: ... } }"]);
  assert.deepEqual(problems(`${STATION}\nlines: {}\n`), ["lines: must map each line's name to its sections, e.g. lines: { lane1: { camera: ... } }"]);
  assert.deepEqual(problems(`${STATION}\nlines: { "a/b": {} }\n`), ["lines.a/b: a line name is 1-64 letters, digits, '_' or '-' (it is a topic level and a metric label)"]);
  assert.deepEqual(problems(`${STATION}\nlines: { a: { records: { type: memory } } }\n`), [
    "lines.a.records: 'records' is not a line's section (a line sets line, camera, views, trigger, engine, engine_runtime, decide, actuation, snapshots; the rest is the station's, at the top level)",
  ]);
  assert.deepEqual(problems(`${STATION}\nlines: { a: 5 }\n`), ["lines.a: must be a mapping of the line's sections (line, camera, views, trigger, engine, engine_runtime, decide, actuation, snapshots)"]);
  assert.deepEqual(problems(`station: { line: x }\n${STATION.replace("station: { site: s, device: d1 }", "")}\nlines: { a: {} }\n`), ["station.line: with lines:, each line is named by its key under lines: leave station.line out"]);
  const two = "a: { actuation: { reject: { name: kick_a } } }, b: { actuation: { reject: { name: kick_b } } }";
  assert.deepEqual(problems(`${STATION}\nlines: { a: { camera: { fps: -1 } } }\n`).length, 1);
  assert.match(problems(`${STATION}\nlines: { a: { camera: { fps: -1 } } }\n`)[0]!, /^lines\.a\.camera\.fps: /);
  // A station's own mistake is said once, not once per line.
  assert.deepEqual(problems(`${STATION}\nlog: { level: loud }\nlines: { ${two} }\n`).length, 1);
  assert.deepEqual(problems(`${STATION}\nlines: { a: {}, b: {} }\n`), ["lines.b.actuation: GPIO line name 'reject' is line 'a''s too: each line names its own (actuation.reject.name is 'reject' unless set)"]);
  const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`l${i}`, {}]));
  assert.match(problems(`${STATION}\nlines: ${JSON.stringify(many)}\n`)[0]!, /^lines: 17 lines: at most 16/);
});

test("lines: two lines may not share a GPIO line, a pin, a camera device or differ in GPIO driver", () => {
  const base = `${STATION.replace("camera: { type: synthetic, width: 320, height: 240, fps: 20 }", "")}`;
  assert.deepEqual(
    problems(`${base}
lines:
  a: { camera: { type: v4l2, device: 0 }, actuation: { reject: { name: kick, pin: 17 } } }
  b: { camera: { type: v4l2, device: /dev/video0 }, actuation: { reject: { name: kick, pin: 17 } } }
`),
    ["lines.b.actuation: GPIO line name 'kick' is line 'a''s too: each line names its own", "lines.b.actuation: GPIO pin 17 is wired to line 'a' too", "lines.b.camera: camera /dev/video0 is line 'a''s: a device is read by one capture thread"],
  );
  assert.deepEqual(
    problems(`${STATION}
lines:
  a: { actuation: { reject: { name: kick_a }, gpio: { type: gpiod, chip: gpiochip0 } } }
  b: { actuation: { reject: { name: kick_b }, gpio: { type: gpiod, chip: gpiochip1 } } }
`),
    [`lines.b.actuation.gpio: every line drives the station's one GPIO driver: {"type":"gpiod","chip":"gpiochip0"} as line 'a' has it`],
  );
  // Distinct names and devices: accepted.
  const ok = parseConfigText("t.yaml", `${STATION}\nlines: { a: { actuation: { reject: { name: kick_a } } }, b: { actuation: { reject: { name: kick_b } } } }\n`, {});
  assert.equal(ok.lines?.length, 2);
});
