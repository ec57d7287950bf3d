import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_JSON_DEPTH, parseCommandJson } from "../../daemon/publish/command-json.js";
import { errorCode, errorMessage } from "../../daemon/util/errors.js";

function refusal(payload: Buffer | string): string {
  try {
    parseCommandJson(Buffer.from(payload));
  } catch (err) {
    return `${errorCode(err)}: ${errorMessage(err)}`;
  }
  return "accepted";
}

test("command payloads: not UTF-8, not JSON, too deep or with a duplicate key are refused before any object is built", () => {
  const cases: Array<[Buffer | string, RegExp]> = [
    [Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), /E_CMD_MALFORMED: payload is not UTF-8/],
    [Buffer.from([0xc0, 0xaf]), /not UTF-8/],
    [Buffer.from([0xed, 0xa0, 0x80]), /not UTF-8/],
    ["{not json", /E_CMD_MALFORMED: payload is not JSON/],
    ['{"a":1', /not JSON/],
    ["\u0000", /not JSON/],
    ['{"from":"mallory","from":"operator-1"}', /duplicate key/],
    ['{"from":"a", "x":1 ,  "from" : "b"}', /duplicate key/],
    ['{"__proto__":1,"__proto__":2}', /duplicate key/],
    ['{"a":"\\"","a":1}', /duplicate key/],
    ["[".repeat(MAX_JSON_DEPTH + 1) + "]".repeat(MAX_JSON_DEPTH + 1), /nested deeper than 4/],
    ["[".repeat(100_000), /nested deeper/],
    ['{"a":{"b":{"c":{"d":{}}}}}', /nested deeper/],
  ];
  for (const [payload, why] of cases) assert.match(refusal(payload), why, String(payload).slice(0, 60));
});

test("what the scanner must not miscount: braces and quotes inside strings, nested keys, empty payloads", () => {
  assert.deepEqual(parseCommandJson(Buffer.alloc(0)), {});
  assert.deepEqual(parseCommandJson(Buffer.from('{"a":"{[[[[[[\\"","b":"}:"}')), { a: '{[[[[[["', b: "}:" });
  assert.deepEqual(parseCommandJson(Buffer.from('{"a":{"x":1},"b":{"x":2}}')), { a: { x: 1 }, b: { x: 2 } });
  assert.deepEqual(parseCommandJson(Buffer.from('["a","a"]')), ["a", "a"]);
  assert.equal(parseCommandJson(Buffer.from("7")), 7);
  // A UTF-8 byte order mark is not part of the text.
  assert.deepEqual(parseCommandJson(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')])), { a: 1 });
});
