import { test } from "node:test";
import assert from "node:assert/strict";
import { request, type ClientRequest } from "node:http";
import { startStation, type RunningStation } from "../http/station.js";
import { assertLineHealthy } from "./line-health.js";
import { basicAuth, firstReject, raw } from "./raw-http.js";

const ENV = { OP_PW: "op-secret", TOKEN: "t0ken-for-prometheus" };
const AUTH = `auth: { users: [{ name: op, password: "env:OP_PW", role: operator }], tokens: [{ token: "env:TOKEN", role: viewer }], anonymous: none }`;
const OP = { authorization: basicAuth("op", "op-secret") };
const JSON_SAME = { ...OP, "content-type": "application/json", "sec-fetch-site": "same-origin" };

test("every query parameter out of range or malformed, on every route, is a 400 naming it", async () => {
  const s = await startStation(AUTH, ENV);
  try {
    const id = await firstReject(s.url, OP);
    const cases: Array<[string, RegExp]> = [
      // Dates that do not exist: refused, not rolled over into the next month.
      ["/api/defects?from=2024-02-30", /from: must be an ISO 8601 time .*\(2024-02 has no day 30\)/],
      ["/api/defects?from=2023-02-29T00:00:00Z", /2023-02 has no day 29/],
      ["/api/defects?to=2024-04-31", /2024-04 has no day 31/],
      ["/api/defects?from=2024-13-01", /month 13 does not exist/],
      ["/api/defects?from=2024-00-10", /month 00 does not exist/],
      ["/api/defects?from=2024-05-01T24:00:00Z", /24:00:00 is not a time of day/],
      ["/api/defects?from=2024-05-01T12:60Z", /12:60 is not a time of day/],
      ["/api/defects?from=2024-05-01T12:00:61Z", /is not a time of day/],
      ["/api/defects?from=2024-05-01T12:00%2B24:00", /offset \+24:00 does not exist/],
      ["/api/defects?from=2024-05-01T12", /not in ISO 8601 form/],
      ["/api/defects?from=%2B275760-09-13", /not in ISO 8601 form/],
      ["/api/defects.csv?from=2024-02-30", /from: .*no day 30/],
      ["/api/defects.csv?to=2024-02-31T00:00Z", /to: .*no day 31/],
      ["/api/defects?from=1e12", /from: must be an ISO 8601 time/],
      ["/api/defects?from=9999999999999999", /from: must be an ISO 8601 time/],
      ["/api/defects?from=-1", /from: must be an ISO 8601 time/],
      ["/api/defects?limit=-1", /limit: must be a whole number/],
      ["/api/defects?limit=1e2", /limit: must be a whole number/],
      ["/api/defects?limit=0x10", /limit: must be a whole number/],
      ["/api/defects?limit=", /limit: must be a whole number/],
      ["/api/defects?limit=%00", /limit: must be a whole number/],
      ["/api/defects?limit=9999999", /limit: must be a whole number/],
      ["/api/defects?limit=201", /limit: must be at most 200/],
      ["/api/defects?before=1.2.3", /before: must be a cursor/],
      ["/api/defects?before=99999999999999999999.1", /before: must be a cursor/],
      ["/api/defects?class=%E2%9C%93", /class: must be a class name/],
      ["/api/defects?class=" + "a".repeat(65), /class: must be a class name/],
      ["/api/defects?class=a;DROP%20TABLE%20inspections", /class: must be a class name/],
      ["/api/defects?verdict=confirmed&verdict=false_reject", /verdict: must be given once/],
      ["/api/defects?verdict[]=x", /unknown parameter 'verdict\[\]'/],
      ["/api/defects?__proto__=1", /unknown parameter '__proto__'/],
      ["/api/defects.csv?limit=5", /unknown parameter 'limit'/],
      ["/api/alarms?limit=0", /limit: must be at least 1/],
      ["/api/alarms?before=0", /before: must be a positive whole number/],
      ["/api/alarms?before=abc", /before: must be a positive whole number/],
      ["/api/alarms?before=99999999999999999", /before: must be a positive whole number/],
      ["/api/classes?x=1", /unknown parameter 'x'/],
      [`/api/defects/${id}?x=1`, /unknown parameter 'x'/],
      ["/api/defects/1.5", /id: must be a positive whole number/],
      ["/api/defects/-1", /id: must be a positive whole number/],
      ["/api/defects/99999999999999999", /id: must be a positive whole number/],
      ["/api/defects/%20", /id: must be a positive whole number/],
      ["/api/me?x=1", /unknown parameter 'x'/],
      ["/api/live?x=1", /unknown parameter 'x'/],
      ["/api/events?x=1", /unknown parameter 'x'/],
      ["/api/live/frame.jpg?seq=abc", /seq: must be a whole number/],
      ["/api/live/frame.jpg?seq=-1", /seq: must be a whole number/],
      ["/api/live/frame.jpg?seq=1&seq=2", /seq: must be given once/],
      ["/api/live/frame.jpg?other=1", /unknown parameter 'other'/],
      ["/api/live?line=../x", /line: must be a line's name/],
      ["/api/live?line=a&line=b", /line: must be given once/],
      [`/api/events?line=${"x".repeat(65)}`, /line: must be a line's name/],
      ["/api/live/frame.jpg?line=%00", /line: must be a line's name/],
      [`/api/snapshots/${id}.jpg?size=big`, /unknown parameter 'size'/],
      ["/assets/common.js?v=1", /unknown parameter 'v'/],
      ["/metrics?name[]=x", /unknown parameter/],
    ];
    const failures: string[] = [];
    for (const [path, reason] of cases) {
      const r = await raw(`${s.url}${path}`, "GET", OP);
      const body = JSON.parse(r.body) as { error: string; message: string };
      if (r.status !== 400 || body.error !== "bad_request" || !reason.test(body.message)) failures.push(`${path}: ${r.status} ${r.body}`);
    }
    assert.deepEqual(failures, []);
    // A real date still works, and a leap day in a leap year is a day.
    for (const ok of ["/api/defects?from=2024-02-29", "/api/defects?from=2024-05-01T08:00:00.123%2B02:00&to=2099-12-31T23:59:59Z"]) {
      assert.equal((await raw(`${s.url}${ok}`, "GET", OP)).status, 200, ok);
    }
    await assertLineHealthy(s);
  } finally {
    await s.stop();
  }
});

test("snapshot names that try to leave the snapshot folder never read a file", async () => {
  const s = await startStation(AUTH, ENV);
  try {
    const names = [
      "..%2f..%2f..%2fetc%2fpasswd",
      "..%2F..%2Fetc%2Fpasswd.jpg",
      "%2e%2e%2f1.jpg",
      "..%5c..%5c1.jpg",
      "1.jpg%00.png",
      "1.jpg%2f..%2f..%2fetc%2fpasswd",
      "1.JPG",
      "01.jpg",
      "0.jpg",
      "-1.jpg",
      "1.jpeg",
      "1.jpg.jpg",
      "9999999999999999999.jpg",
      "%31.jpg%20",
      "a".repeat(5000) + ".jpg",
    ];
    for (const name of names) {
      const r = await raw(`${s.url}/api/snapshots/${name}`, "GET", OP);
      assert.ok([400, 404, 414].includes(r.status), `${name}: ${r.status}`);
      assert.doesNotMatch(r.body, /root:|\u00ff\u00d8/, `${name} leaked a file`);
      if (r.status === 400) assert.match(r.body, /file: must be <id>\.jpg/);
    }
    for (const path of ["/api/snapshots/../../../etc/passwd", "/api/snapshots/%2e%2e/%2e%2e/etc/passwd", "/assets/../../package.json", "/assets/%2e%2e%2fserver.js", "/assets/..%2f..%2fpackage.json"]) {
      const r = await raw(`${s.url}${path}`, "GET", OP);
      assert.ok([400, 404].includes(r.status), `${path}: ${r.status} ${r.body.slice(0, 80)}`);
      assert.doesNotMatch(r.body, /root:|"dependencies"/, `${path} leaked a file`);
    }
    await assertLineHealthy(s);
  } finally {
    await s.stop();
  }
});

test("bodies that are too large, malformed or of the wrong shape are refused with their status, and change nothing", async () => {
  const s = await startStation(AUTH, ENV);
  try {
    const id = await firstReject(s.url, OP);
    const path = `/api/defects/${id}/verdict`;
    const cases: Array<[string, string | Buffer, number, RegExp]> = [
      ["17 kB of JSON", JSON.stringify({ verdict: "confirmed", pad: "x".repeat(17 * 1024) }), 413, /too_large|Request body is too large/],
      ["1 MB of JSON", Buffer.alloc(1024 * 1024, 0x20), 413, /too large/i],
      ["malformed JSON", "{verdict:", 400, /JSON/],
      ["an empty body", "", 400, /empty/i],
      ["a JSON array", "[]", 400, /Expected object/],
      ["a JSON string", '"confirmed"', 400, /Expected object/],
      ["JSON null", "null", 400, /verdict: must be confirmed or false_reject/],
      ["a number for the verdict", '{"verdict":1}', 400, /verdict: must be confirmed or false_reject/],
      ["an unknown verdict", '{"verdict":"approved"}', 400, /verdict: must be confirmed or false_reject/],
      ["an extra field", '{"verdict":"confirmed","operator":"someone else"}', 400, /unknown field 'operator'/],
      ["a __proto__ key", '{"verdict":"confirmed","__proto__":{"role":"operator"}}', 400, /Body is not valid JSON/],
      ["a constructor.prototype key", '{"verdict":"confirmed","constructor":{"prototype":{"x":1}}}', 400, /Body is not valid JSON|unknown field 'constructor'/],
      ["deeply nested JSON", "[".repeat(5000) + "]".repeat(5000), 400, /Expected object/],
      ["invalid UTF-8", Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), 400, /./],
      ["a duplicate key (the last would win)", '{"verdict":"approved","verdict":"confirmed"}', 200, /confirmed/],
    ];
    for (const [what, body, status, message] of cases) {
      const r = await raw(`${s.url}${path}`, "PUT", JSON_SAME, body);
      assert.equal(r.status, status, `${what}: ${r.body}`);
      assert.match(r.body, message, what);
      assert.doesNotMatch(r.body, /\n\s+at |node_modules/, `${what}: internals leaked`);
      if (status !== 200) {
        const d = JSON.parse((await raw(`${s.url}/api/defects/${id}`, "GET", OP)).body) as { operator_verdict: unknown };
        assert.equal(d.operator_verdict, null, `${what} changed the record`);
      }
    }
    // The ack route's body must be {} (or absent fields), nothing else.
    s.app.store.recordAlarm({ code: "E_BIN_FULL", message: "full", active: true, timeMs: Date.now() });
    await s.app.store.flush();
    const alarm = (JSON.parse((await raw(`${s.url}/api/alarms?limit=1`, "GET", OP)).body) as { items: Array<{ id: number }> }).items[0]!.id;
    const ack = await raw(`${s.url}/api/alarms/${alarm}/ack`, "POST", JSON_SAME, '{"operator":"someone else"}');
    assert.equal(ack.status, 400, ack.body);
    assert.match(ack.body, /unknown field 'operator'/);
    await assertLineHealthy(s);
  } finally {
    await s.stop();
  }
});

test("malformed credentials are a 401, never a 500, and the right ones still work", async () => {
  const s = await startStation(AUTH, ENV);
  try {
    const b64 = (t: string) => Buffer.from(t).toString("base64");
    const bad = [
      "Basic",
      "Basic ",
      "Basic !!!!",
      "Basic ====",
      `Basic ${b64("nocolon")}`,
      `Basic ${b64(":")}`,
      `Basic ${b64("op:")}`,
      `Basic ${b64(":op-secret")}`,
      `Basic ${b64("op:op-secret ")}`,
      `Basic ${b64("op:op-secret")}extra`,
      `Basic ${b64("OP:op-secret")}`,
      `Basic ${b64("op:op-secret\u0000")}`,
      `Basic ${b64("op\u0000:op-secret")}`,
      `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0x41]).toString("base64")}`,
      `Basic ${b64("x".repeat(8000))}`,
      "Bearer",
      "Bearer ",
      "Bearer t0ken",
      "Bearer t0ken-for-prometheus-and-more",
      `Bearer ${"A".repeat(8000)}`,
      "Digest username=op",
      "Negotiate YIIB",
      "op:op-secret",
      "Basic\top-secret",
    ];
    for (const authorization of bad) {
      const r = await raw(`${s.url}/api/defects`, "GET", { authorization });
      assert.equal(r.status, 401, `${JSON.stringify(authorization.slice(0, 40))}: ${r.body}`);
      assert.deepEqual(JSON.parse(r.body), { error: "unauthorized", message: "credentials required" });
    }
    // Larger than Node's header limit: refused by the parser itself.
    const huge = await raw(`${s.url}/api/defects`, "GET", { authorization: `Bearer ${"A".repeat(20_000)}` }).catch((err: Error) => ({ status: 0, body: err.message }));
    assert.ok([0, 431].includes(huge.status), `a 20 kB header: ${huge.status}`);
    for (const good of [basicAuth("op", "op-secret"), `basic ${b64("op:op-secret")}`, `Bearer ${ENV.TOKEN}`, `bearer   ${ENV.TOKEN}`.replace("   ", " ")]) {
      assert.equal((await raw(`${s.url}/api/me`, "GET", { authorization: good })).status, 200, good);
    }
    await assertLineHealthy(s);
  } finally {
    await s.stop();
  }
});

test("with records in memory every defect-log route answers from memory, a wrong id with a coded 404, never a 5xx", async () => {
  const s = await startStation("auth: { anonymous: operator }", {}, undefined, "{ type: memory }");
  try {
    const routes: Array<[string, string, number, string?]> = [
      ["GET", "/api/defects", 200],
      ["GET", "/api/defects.csv", 200],
      ["GET", "/api/classes", 200],
      ["GET", "/api/defects/99999999", 404],
      ["GET", "/api/snapshots/1.jpg", 404],
      ["GET", "/api/alarms", 200],
      ["PUT", "/api/defects/99999999/verdict", 404, '{"verdict":"confirmed"}'],
      ["PUT", "/api/defects/1/verdict", 400, '{"verdict":"confirmed","extra":1}'],
      ["POST", "/api/alarms/99999999/ack", 404, "{}"],
    ];
    for (const [method, path, status, body] of routes) {
      const r = await raw(`${s.url}${path}`, method, { "content-type": "application/json" }, body);
      assert.equal(r.status, status, `${method} ${path}: ${r.body}`);
      if (status >= 400) assert.equal((JSON.parse(r.body) as { error: string }).error, status === 404 ? "not_found" : "bad_request");
    }
    await assertLineHealthy(s);
  } finally {
    await s.stop();
  }
});

test("the 33rd live viewer gets 503, and a place frees when a viewer leaves", async () => {
  const s = await startStation("auth: { anonymous: viewer }");
  const open: ClientRequest[] = [];
  const connect = () =>
    new Promise<number>((resolve, reject) => {
      const req = request(`${s.url}/api/events`, { agent: false }, (res) => {
        resolve(res.statusCode!);
        if (res.statusCode !== 200) res.resume();
      });
      req.on("error", reject);
      req.end();
      open.push(req);
    });
  try {
    for (let i = 0; i < 32; i++) assert.equal(await connect(), 200, `viewer ${i + 1}`);
    const r = await raw(`${s.url}/api/events`, "GET");
    assert.equal(r.status, 503, r.body);
    assert.deepEqual(JSON.parse(r.body), { error: "unavailable", message: "too many live viewers; try again later" });
    open.shift()!.destroy();
    let status = 503;
    for (let i = 0; i < 50 && status === 503; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = await connect();
    }
    assert.equal(status, 200);
    await assertLineHealthy(s);
  } finally {
    for (const req of open) req.destroy();
    await s.stop();
  }
});
