import { test } from "node:test";
import assert from "node:assert/strict";
import { topic } from "../../daemon/publish/topics.js";
import { sleep } from "../../daemon/util/clock.js";
import { OPERATOR, UNLIMITED, connected, hostileStation, station, type Send } from "./mqtt-station.js";

const op = { userProperties: { from: OPERATOR } };
const J = JSON.stringify;

/** One hostile command: what is sent, and the code its reply must carry (`ok`: accepted, harmlessly). */
type Case = [label: string, name: string, payload: string | Buffer, send: Send, expect: string];

const deep = (n: number) => "[".repeat(n) + "]".repeat(n);
const deepObject = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);

const CASES: Case[] = [
  // Payload types and field types
  ["null payload", "pause", "null", op, "E_CMD_INVALID"],
  ["array payload", "pause", "[]", op, "E_CMD_INVALID"],
  ["string payload", "pause", '"pause"', op, "E_CMD_INVALID"],
  ["number payload", "pause", "42", op, "E_CMD_INVALID"],
  ["boolean payload", "pause", "true", op, "E_CMD_INVALID"],
  ["from a number", "pause", J({ from: 1 }), {}, "E_CMD_INVALID"],
  ["from null", "pause", J({ from: null }), {}, "E_CMD_INVALID"],
  ["from an array", "pause", J({ from: [OPERATOR] }), {}, "E_CMD_INVALID"],
  ["from an object", "pause", J({ from: { id: OPERATOR } }), {}, "E_CMD_INVALID"],
  ["from empty", "pause", J({ from: "" }), {}, "E_CMD_INVALID"],
  ["from 129 chars", "pause", J({ from: "x".repeat(129) }), {}, "E_CMD_INVALID"],
  ["request_id a number", "pause", J({ request_id: 5 }), op, "E_CMD_INVALID"],
  ["request_id 129 chars", "pause", J({ request_id: "r".repeat(129) }), op, "E_CMD_INVALID"],
  // Unknown fields: refused, never ignored
  ["failsafe field", "pause", J({ failsafe: "accept" }), op, "E_CMD_INVALID"],
  ["pulse field", "test-reject", J({ pulse_ms: 0 }), op, "E_CMD_INVALID"],
  ["width field", "test-reject", J({ width_ms: 5000 }), op, "E_CMD_INVALID"],
  ["hold field", "set-threshold", J({ threshold: 0.5, hold_output: true }), op, "E_CMD_INVALID"],
  ["__proto__ field", "pause", '{"__proto__":{"admin":true}}', op, "E_CMD_INVALID"],
  ["constructor field", "pause", J({ constructor: { prototype: {} } }), op, "E_CMD_INVALID"],
  // set-threshold values
  ["threshold a string", "set-threshold", J({ threshold: "0.5" }), op, "E_CMD_INVALID"],
  ["threshold below 0", "set-threshold", J({ threshold: -0.1 }), op, "E_CMD_INVALID"],
  ["threshold above 1", "set-threshold", J({ threshold: 1.0001 }), op, "E_CMD_INVALID"],
  ["threshold NaN", "set-threshold", '{"threshold":NaN}', op, "E_CMD_MALFORMED"],
  ["threshold 1e400", "set-threshold", '{"threshold":1e400}', op, "E_CMD_INVALID"],
  ["threshold missing", "set-threshold", J({ class: "crack" }), op, "E_CMD_INVALID"],
  ["threshold null", "set-threshold", J({ threshold: null }), op, "E_CMD_INVALID"],
  ["class empty", "set-threshold", J({ class: "", threshold: 0.5 }), op, "E_CMD_INVALID"],
  ["class 65 chars", "set-threshold", J({ class: "c".repeat(65), threshold: 0.5 }), op, "E_CMD_INVALID"],
  ["class ok (not a defect)", "set-threshold", J({ class: "ok", threshold: 0.5 }), op, "E_CMD_INVALID"],
  ["class __proto__", "set-threshold", J({ class: "__proto__", threshold: 0.5 }), op, "E_CMD_INVALID"],
  ["class with NUL", "set-threshold", J({ class: "crack\u0000", threshold: 0.5 }), op, "E_CMD_INVALID"],
  // swap-model: a name beside the running package, never a path
  ["package traversal", "swap-model", J({ package: "../../etc" }), op, "E_CMD_UNAVAILABLE"],
  ["package absolute", "swap-model", J({ package: "/models/v2" }), op, "E_CMD_UNAVAILABLE"],
  ["package empty", "swap-model", J({ package: "" }), op, "E_CMD_INVALID"],
  ["package 513 chars", "swap-model", J({ package: "p".repeat(513) }), op, "E_CMD_INVALID"],
  ["package missing", "swap-model", "{}", op, "E_CMD_INVALID"],
  ["package a number", "swap-model", J({ package: 5 }), op, "E_CMD_INVALID"],
  // Sizes, encodings, nesting, duplicates, syntax
  ["payload over the limit", "pause", J({ request_id: "x".repeat(1100) }), op, "E_CMD_TOO_LARGE"],
  ["bytes ff fe", "pause", Buffer.from([0xff, 0xfe]), op, "E_CMD_MALFORMED"],
  ["overlong UTF-8", "pause", Buffer.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d]), op, "E_CMD_MALFORMED"],
  ["UTF-8 surrogate", "pause", Buffer.from([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d]), op, "E_CMD_MALFORMED"],
  ["truncated UTF-8", "pause", Buffer.from('{"from":"\xe2\x82"}', "latin1"), {}, "E_CMD_MALFORMED"],
  ["arrays 500 deep", "pause", deep(500), op, "E_CMD_MALFORMED"],
  ["objects 100 deep", "pause", deepObject(100), op, "E_CMD_MALFORMED"],
  ["unclosed arrays", "pause", "[".repeat(1000), op, "E_CMD_MALFORMED"],
  ["duplicate from", "pause", '{"from":"mallory","from":"operator-1"}', {}, "E_CMD_MALFORMED"],
  ["duplicate threshold", "set-threshold", '{"threshold":0.1,"threshold":0.9}', op, "E_CMD_MALFORMED"],
  ["not JSON", "pause", "{not json", op, "E_CMD_MALFORMED"],
  ["truncated JSON", "pause", '{"a":1', op, "E_CMD_MALFORMED"],
  ["single quotes", "pause", "{'from':'operator-1'}", op, "E_CMD_MALFORMED"],
  ["trailing comma", "pause", '{"request_id":"a",}', op, "E_CMD_MALFORMED"],
  ["a NUL byte", "pause", "\u0000", op, "E_CMD_MALFORMED"],
  ["whitespace only", "pause", "   ", op, "E_CMD_MALFORMED"],
  // Correlation data
  ["correlation 257 bytes", "resume", "{}", { ...op, correlationData: Buffer.alloc(257, 7) }, "E_CMD_CORRELATION"],
  ["correlation 3 kB", "resume", "{}", { ...op, correlationData: Buffer.alloc(3000, 1) }, "E_CMD_CORRELATION"],
  ["correlation 256 bytes", "resume", "{}", { ...op, correlationData: Buffer.alloc(256, 9) }, "ok"],
  ["correlation binary", "resume", "{}", { ...op, correlationData: Buffer.from([0, 255, 10, 13, 0x80]) }, "ok"],
  // Identity: the user property and the payload, spoofed every way
  ["from mallory", "resume", "{}", { userProperties: { from: "mallory" } }, "E_CMD_UNAUTHORISED"],
  ["no identity", "resume", "{}", {}, "E_CMD_UNAUTHORISED"],
  ["from twice, mallory first", "resume", "{}", { userProperties: { from: ["mallory", OPERATOR] } }, "E_CMD_UNAUTHORISED"],
  ["from twice, both allowed", "resume", "{}", { userProperties: { from: [OPERATOR, OPERATOR] } }, "E_CMD_UNAUTHORISED"],
  ["property and payload differ", "resume", J({ from: "mallory" }), op, "E_CMD_UNAUTHORISED"],
  ["property mallory, payload allowed", "resume", J({ from: OPERATOR }), { userProperties: { from: "mallory" } }, "E_CMD_UNAUTHORISED"],
  ["case variant", "resume", "{}", { userProperties: { from: "Operator-1" } }, "E_CMD_UNAUTHORISED"],
  ["trailing space", "resume", "{}", { userProperties: { from: `${OPERATOR} ` } }, "E_CMD_UNAUTHORISED"],
  ["unicode hyphen", "resume", "{}", { userProperties: { from: "operator\u20101" } }, "E_CMD_UNAUTHORISED"],
  // (A NUL in a user property never reaches the station: Mosquitto disconnects the sender for malformed UTF-8.)
  ["From (capital)", "resume", "{}", { userProperties: { From: OPERATOR } }, "E_CMD_UNAUTHORISED"],
  ["from 200 chars", "resume", "{}", { userProperties: { from: "f".repeat(200) } }, "E_CMD_UNAUTHORISED"],
  ["from empty property", "resume", "{}", { userProperties: { from: "" } }, "E_CMD_UNAUTHORISED"],
  ["payload from alone", "resume", J({ from: OPERATOR }), {}, "ok"],
  ["100 junk user properties", "resume", "{}", { userProperties: { from: OPERATOR, ...Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, "v"])) } }, "ok"],
  ["a 3 kB user property", "resume", "{}", { userProperties: { from: OPERATOR, junk: "j".repeat(3000) } }, "ok"],
  // Content type
  ["text/plain", "resume", "{}", { ...op, contentType: "text/plain" }, "E_CMD_MALFORMED"],
  ["empty content type", "resume", "{}", { ...op, contentType: "" }, "E_CMD_MALFORMED"],
  ["application/jsonp", "resume", "{}", { ...op, contentType: "application/jsonp" }, "E_CMD_MALFORMED"],
  ["json with charset", "resume", "{}", { ...op, contentType: "application/json; charset=utf-8" }, "ok"],
  // Response topics: anything the broker would disconnect for, or outside the reply prefixes
  ["response replies/#", "resume", "{}", { ...op, responseTopic: "replies/#" }, "E_CMD_REPLY_TOPIC"],
  ["response replies/+", "resume", "{}", { ...op, responseTopic: "replies/+" }, "E_CMD_REPLY_TOPIC"],
  ["response #", "resume", "{}", { ...op, responseTopic: "#" }, "E_CMD_REPLY_TOPIC"],
  ["response $SYS", "resume", "{}", { ...op, responseTopic: "$SYS/broker/x" }, "E_CMD_REPLY_TOPIC"],
  ["response empty level", "resume", "{}", { ...op, responseTopic: "replies//x" }, "E_CMD_REPLY_TOPIC"],
  ["response outside prefixes", "resume", "{}", { ...op, responseTopic: "plant/hmi/replies" }, "E_CMD_REPLY_TOPIC"],
  ["response own status", "resume", "{}", { ...op, responseTopic: topic(station, "status") }, "E_CMD_REPLY_TOPIC"],
  ["response own defects", "resume", "{}", { ...op, responseTopic: topic(station, "defects") }, "E_CMD_REPLY_TOPIC"],
  ["response other station", "resume", "{}", { ...op, responseTopic: "edge-inspect/plant/l1/cam2/replies/x" }, "E_CMD_REPLY_TOPIC"],
  ["response 600 bytes", "resume", "{}", { ...op, responseTopic: `replies/${"r".repeat(600)}` }, "E_CMD_REPLY_TOPIC"],
  ["response own replies", "resume", "{}", { ...op, responseTopic: topic(station, "replies/me") }, "ok"],
  // Command names
  ["unknown name", "self-destruct", "{}", op, "E_CMD_UNKNOWN"],
  ["upper case", "PAUSE", "{}", op, "E_CMD_UNKNOWN"],
  ["empty name", "", "{}", op, "E_CMD_UNKNOWN"],
  ["name with a space", "pause ", "{}", op, "E_CMD_UNKNOWN"],
  ["name __proto__", "__proto__", "{}", op, "E_CMD_UNKNOWN"],
  ["name constructor", "constructor", "{}", op, "E_CMD_UNKNOWN"],
  ["name toString", "toString", "{}", op, "E_CMD_UNKNOWN"],
  ["name 2000 chars", "n".repeat(2000), "{}", op, "E_CMD_UNKNOWN"],
  // QoS: the station subscribes at 1; each is answered the same
  ["QoS 0", "resume", "{}", { ...op, qos: 0 }, "ok"],
  ["QoS 2", "resume", "{}", { ...op, qos: 2 }, "ok"],
];

test(`${CASES.length} hostile commands over a real Mosquitto: each gets its coded reply, none changes the line, which keeps running with its books balanced`, async () => {
  const s = await hostileStation({ commands: UNLIMITED });
  try {
    await s.app.start();
    await connected(s.app);
    const before = structuredClone(s.app.pipeline.decideSettings);
    const triggered = s.app.tracker.counters.triggered;
    let refusals = 0;
    for (const [label, name, payload, send, expect] of CASES) {
      const reply = await s.send(name, payload, send);
      assert.ok(reply, `${label}: no reply`);
      assert.equal(reply.ok ? "ok" : reply.error?.code, expect, `${label}: ${J(reply)}`);
      if (expect !== "ok") refusals++;
      // Replies stay in the station's own tree or under replies/.
      assert.ok(reply.topic === "replies/ctl" || reply.topic.startsWith(topic(station, "")), `${label}: reply on ${reply.topic}`);
      // A long name from the network is clipped in the reply, not echoed whole.
      assert.ok(reply.command.length <= 70, label);
    }
    assert.equal(s.app.pipeline.paused, false);
    assert.deepEqual(s.app.pipeline.decideSettings, before);
    assert.equal(s.app.commands.counts.refused, refusals);

    // Topic aliases: the broker resolves them; the station sees the full topic.
    const aliased = await s.send("resume", "{}", { ...op, topicAlias: 3 });
    const byAlias = await s.send("resume", "{}", { ...op, topicAlias: 3, topic: "" });
    assert.deepEqual([aliased?.ok, byAlias?.ok, byAlias?.command], [true, true, "resume"]);

    // Not a command topic: nothing answers, nothing acts (its own reply topic, a deeper level).
    for (const t of [topic(station, "cmd/pause/reply"), topic(station, "cmd/pause/now"), topic(station, "cmd")]) {
      await s.ctl.publishAsync(t, J({ from: OPERATOR }), { qos: 1, properties: { responseTopic: "replies/ctl" } });
    }
    await s.send("resume", "{}", op);
    await sleep(100);
    assert.equal(s.app.pipeline.paused, false);
    assert.equal(s.app.commands.counts.refused, refusals, "nothing from the non-command topics was handled");

    // The line kept running throughout, every part accounted for.
    assert.ok(s.app.tracker.counters.triggered > triggered);
    assert.equal(s.app.tracker.checkInvariant(), true);
  } finally {
    await s.close();
  }
  console.log(`hostile MQTT command inputs: ${CASES.length + 2 + 3}`);
});
