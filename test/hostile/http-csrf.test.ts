import { test } from "node:test";
import assert from "node:assert/strict";
import { startStation, type RunningStation } from "../http/station.js";
import { assertLineHealthy } from "./line-health.js";
import { basicAuth, firstReject, raw } from "./raw-http.js";

const ENV = { OP_PW: "op-secret" };
const AUTH = `auth: { users: [{ name: op, password: "env:OP_PW", role: operator }], anonymous: none }`;
const OP = { authorization: basicAuth("op", "op-secret") };

/** Every route that changes state, with a body it accepts. */
interface Route {
  name: string;
  method: string;
  path: (s: RunningStation) => Promise<string>;
  body: string;
  /** What the record looks like now: unchanged by every refused request. */
  state: (s: RunningStation, path: string) => Promise<unknown>;
}

const firstDefect = (s: RunningStation) => firstReject(s.url, OP);

async function newAlarm(s: RunningStation): Promise<number> {
  s.app.store.recordAlarm({ code: "E_BIN_FULL", message: "reject bin 1 is full", active: true, timeMs: Date.now() });
  await s.app.store.flush();
  const r = JSON.parse((await raw(`${s.url}/api/alarms?limit=1`, "GET", OP)).body) as { items: Array<{ id: number }> };
  return r.items[0]!.id;
}

const ROUTES: Route[] = [
  {
    name: "operator verdict",
    method: "PUT",
    path: async (s) => `/api/defects/${await firstDefect(s)}/verdict`,
    body: JSON.stringify({ verdict: "false_reject" }),
    state: async (s, path) => (JSON.parse((await raw(`${s.url}${path.replace("/verdict", "")}`, "GET", OP)).body) as { operator_verdict: unknown }).operator_verdict,
  },
  {
    name: "alarm acknowledge",
    method: "POST",
    path: async (s) => `/api/alarms/${await newAlarm(s)}/ack`,
    body: "{}",
    state: async (s, path) => {
      const id = Number(path.split("/")[3]);
      const r = JSON.parse((await raw(`${s.url}/api/alarms?limit=200`, "GET", OP)).body) as { items: Array<{ id: number; acked_by: unknown }> };
      return r.items.find((a) => a.id === id)!.acked_by;
    },
  },
];

/** What an attacker's page or a confused client can send, and the status it must get. */
function hostile(s: RunningStation): Array<[string, Record<string, string>, number, RegExp]> {
  const self = new URL(s.url);
  const json = { "content-type": "application/json" };
  return [
    ["an HTML form, enctype=text/plain, from another site (the issue's case)", { "content-type": "text/plain", origin: "http://evil.example" }, 415, /needs 'content-type: application\/json', got 'text\/plain'/],
    ["text/plain with no origin", { "content-type": "text/plain;charset=UTF-8" }, 415, /content-type/],
    ["an urlencoded form", { "content-type": "application/x-www-form-urlencoded", origin: "http://evil.example" }, 415, /x-www-form-urlencoded/],
    ["a multipart form", { "content-type": "multipart/form-data; boundary=x", origin: "http://evil.example" }, 415, /multipart/],
    ["no content type", {}, 415, /got none/],
    ["application/json-patch+json", { "content-type": "application/json-patch+json" }, 415, /json-patch/],
    ["text/json", { "content-type": "text/json" }, 415, /text\/json/],
    ["a content type with JSON after it", { "content-type": "text/plain; application/json" }, 415, /text\/plain/],
    ["JSON from another site", { ...json, origin: "http://evil.example" }, 403, /origin http:\/\/evil\.example is not this server/],
    ["JSON from a sandboxed frame (Origin: null)", { ...json, origin: "null" }, 403, /origin null/],
    ["JSON from another port of this host", { ...json, origin: `http://${self.hostname}:1` }, 403, /cross-origin/],
    ["JSON from https on this host and port", { ...json, origin: `https://${self.host}` }, 403, /cross-origin/],
    ["JSON with an Origin that has a path", { ...json, origin: `${self.origin}/evil` }, 403, /cross-origin/],
    ["JSON with an Origin that has credentials in it", { ...json, origin: `http://op@${self.host}` }, 403, /cross-origin/],
    ["JSON from a look-alike host", { ...json, origin: `http://${self.host}.evil.example` }, 403, /cross-origin/],
    ["JSON with a garbage Origin", { ...json, origin: "%%%" }, 403, /cross-origin/],
    ["JSON a browser marks cross-site", { ...json, "sec-fetch-site": "cross-site" }, 403, /sec-fetch-site: cross-site/],
    ["JSON a browser marks same-site (another port or subdomain)", { ...json, "sec-fetch-site": "same-site" }, 403, /same-site/],
    ["JSON with this Origin but marked cross-site", { ...json, origin: self.origin, "sec-fetch-site": "cross-site" }, 403, /cross-site/],
  ];
}

test("every state-changing route refuses cross-origin and non-JSON requests, even with valid cached credentials, and changes nothing", async () => {
  const s = await startStation(AUTH, ENV);
  try {
    for (const route of ROUTES) {
      const path = await route.path(s);
      const before = await route.state(s, path);
      assert.equal(before, null, `${route.name}: fresh record`);
      for (const [what, headers, status, message] of hostile(s)) {
        const r = await raw(`${s.url}${path}`, route.method, { ...OP, ...headers }, route.body);
        assert.equal(r.status, status, `${route.name}, ${what}: ${r.body}`);
        assert.match((JSON.parse(r.body) as { message: string }).message, message, `${route.name}, ${what}`);
        assert.equal(await route.state(s, path), before, `${route.name}, ${what}: the record changed`);
      }
    }
    await assertLineHealthy(s);
  } finally {
    await s.stop();
  }
});

test("every state-changing route accepts same-origin JSON: from its own page, a script without Origin, or with a charset", async () => {
  const s = await startStation(AUTH, ENV);
  try {
    const self = new URL(s.url);
    const accepted: Array<[string, Record<string, string>]> = [
      ["its own page", { "content-type": "application/json", origin: self.origin, "sec-fetch-site": "same-origin" }],
      ["a script (curl) that sends no Origin", { "content-type": "application/json" }],
      ["a charset parameter", { "content-type": "Application/JSON; charset=utf-8", "sec-fetch-site": "same-origin" }],
      ["a bookmark (sec-fetch-site: none)", { "content-type": "application/json", "sec-fetch-site": "none" }],
    ];
    for (const route of ROUTES) {
      for (const [what, headers] of accepted) {
        const path = await route.path(s);
        const r = await raw(`${s.url}${path}`, route.method, { ...OP, ...headers }, route.body);
        assert.equal(r.status, 200, `${route.name}, ${what}: ${r.body}`);
        assert.notEqual(await route.state(s, path), null, `${route.name}, ${what}: nothing changed`);
      }
    }
  } finally {
    await s.stop();
  }
});

test("no other route changes state: every other method on every route is refused and the books are unchanged", async () => {
  const s = await startStation(AUTH, ENV);
  try {
    const id = await firstDefect(s);
    const paths = ["/", "/live", "/defects", `/defects/${id}`, "/alarms", "/healthz", "/metrics", "/api/me", "/api/live", "/api/events", "/api/live/frame.jpg", "/api/defects", "/api/defects.csv", "/api/classes", `/api/defects/${id}`, `/api/snapshots/${id}.jpg`, "/api/alarms", "/assets/common.js"];
    const before = (await raw(`${s.url}/api/defects/${id}`, "GET", OP)).body;
    const json = { ...OP, "content-type": "application/json", origin: s.url };
    for (const path of paths) {
      for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
        const r = await raw(`${s.url}${path}`, method, json, "{}");
        assert.equal(r.status, 404, `${method} ${path}: ${r.body}`);
      }
    }
    assert.equal((await raw(`${s.url}/api/defects/${id}`, "GET", OP)).body, before);
    await assertLineHealthy(s);
  } finally {
    await s.stop();
  }
});
