import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfigText } from "../../daemon/config/load.js";
import { problems, STATION } from "./problems.js";
import { MAIN_VIEW, viewsOf } from "../../daemon/config/schema.js";

test("views: a line without views: has one, its camera; with views: each view is the line's camera and engine merged with its own", () => {
  const one = parseConfigText("t.yaml", STATION, {});
  assert.deepEqual(viewsOf(one).map((v) => v.name), [MAIN_VIEW]);
  assert.deepEqual(viewsOf(one)[0]!.camera, one.camera);

  const c = parseConfigText(
    "t.yaml",
    `${STATION}
views:
  top: {}
  bottom: { camera: { seed: 9 }, engine: { type: simulated, seed: 4 } }
  side: { camera: { type: v4l2, device: /dev/video3 } }
`,
    {},
  );
  const [top, bottom, side] = viewsOf(c);
  assert.deepEqual([top!.name, bottom!.name, side!.name], ["top", "bottom", "side"]);
  assert.deepEqual(top!.camera, c.camera, "a view that sets nothing is the line's camera");
  assert.equal(bottom!.camera.type === "synthetic" && bottom!.camera.seed, 9);
  assert.equal(bottom!.camera.type === "synthetic" && bottom!.camera.width, 320, "the line's keys stay under the view's own");
  assert.equal(bottom!.engine.type === "simulated" && bottom!.engine.seed, 4);
  assert.deepEqual(top!.engine, c.engine);
  // A camera of another type replaces the default whole: no synthetic key leaks into a v4l2 camera.
  assert.equal(side!.camera.type, "v4l2");
  assert.equal("seed" in side!.camera, false);
});

test("views: a line's camera may be left out when its views name theirs; under lines: each line has its own views", () => {
  const c = parseConfigText(
    "t.yaml",
    `
station: { site: s, device: d1 }
records: { type: memory }
http: { enabled: false }
engine: { type: simulated }
lines:
  a:
    views:
      top: { camera: { type: synthetic, seed: 1 } }
      bottom: { camera: { type: synthetic, seed: 2 } }
    actuation: { reject: { name: kick_a } }
  b:
    camera: { type: synthetic, seed: 3 }
    actuation: { reject: { name: kick_b } }
`,
    {},
  );
  const [a, b] = c.lines!;
  assert.deepEqual(viewsOf(a!).map((v) => v.name), ["top", "bottom"]);
  assert.equal(a!.camera.type === "synthetic" && a!.camera.seed, 1, "the first view's camera is the line's");
  assert.deepEqual(viewsOf(b!).map((v) => v.name), [MAIN_VIEW]);
});

test("views: what a file gets wrong about views is said with the view's path", () => {
  assert.deepEqual(problems(`${STATION}views: [top, bottom]\n`), ["views: must map each view's name to its camera, e.g. views: { top: { camera: ... }, bottom: { camera: ... } }"]);
  assert.deepEqual(problems(`${STATION}views: {}\n`), ["views: must map each view's name to its camera, e.g. views: { top: { camera: ... }, bottom: { camera: ... } }"]);
  assert.deepEqual(problems(`${STATION}views: { "top view": {} }\n`), ["views.top view: a view name is 1-64 letters, digits, '_' or '-'"]);
  assert.deepEqual(problems(`${STATION}views: { top: 3 }\n`), ["views.top: must be a mapping of the view's camera and engine"]);
  assert.deepEqual(problems(`${STATION}views: { top: { trigger: { type: simulated } } }\n`), [
    "views.top.trigger: 'trigger' is not a view's section (a view sets its camera and engine; the rest is its line's)",
  ]);
  assert.deepEqual(problems(`${STATION}views: { top: { camera: { fps: -1 } } }\n`), ["views.top.camera.fps: Number must be greater than or equal to 0.1"]);
  const nine = Array.from({ length: 9 }, (_, i) => `v${i}: {}`).join(", ");
  assert.deepEqual(problems(`${STATION}views: { ${nine} }\n`), ["views: 9 views: at most 8 cameras on one line"]);
  assert.deepEqual(problems(`${STATION.replace("engine: { type: simulated }\n", "")}views: { top: {}, bottom: { engine: { type: simulated } } }\n`), ["engine: required", "views.top.engine: required"]);
  // Under lines:, the path names the line.
  assert.deepEqual(problems(`${STATION}lines:\n  a: { views: { top: { camera: { fps: 0 } } } }\n`), ["lines.a.views.top.camera.fps: Number must be greater than or equal to 0.1"]);
});

test("views: a camera device is read by one view of one line", () => {
  assert.deepEqual(problems(`${STATION}views: { top: { camera: { type: v4l2, device: 0 } }, bottom: { camera: { type: v4l2, device: /dev/video0 } } }\n`), [
    "views.bottom.camera: camera /dev/video0 is view 'top''s: a device is read by one capture thread",
  ]);
  assert.deepEqual(
    problems(`${STATION}lines:
  a: { views: { top: { camera: { type: v4l2, device: 2 } } }, actuation: { reject: { name: kick_a } } }
  b: { camera: { type: v4l2, device: 2 }, actuation: { reject: { name: kick_b } } }
`),
    ["lines.b.camera: camera /dev/video2 is line 'a' view 'top''s: a device is read by one capture thread"],
  );
});
