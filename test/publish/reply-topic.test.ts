import { test } from "node:test";
import assert from "node:assert/strict";
import { replyTopicProblem, topicNameProblem } from "../../daemon/publish/reply-topic.js";

const prefixes = ["edge-inspect/plant/l1/cam1/replies/", "replies/"];

test("reply topics the broker would disconnect for, or outside the reply prefixes, are refused with the reason", () => {
  const refused: Array<[string, RegExp]> = [
    ["replies/#", /wildcard/],
    ["replies/+", /wildcard/],
    ["replies/a+b", /wildcard/],
    ["replies/a#", /wildcard/],
    ["$SYS/broker/uptime", /'\$'/],
    ["$share/g/replies/x", /'\$'/],
    ["", /empty/],
    ["replies//x", /empty level/],
    ["replies/x/", /empty level/],
    ["/replies/x", /empty level/],
    ["replies/\u0000x", /control/],
    ["replies/\u001bx", /control/],
    ["replies/\u0085x", /control/],
    ["replies/\ud800x", /UTF-8/],
    ["replies/x\udc00", /UTF-8/],
    ["replies/\ufffe", /non-character/],
    ["replies/\ufdd0", /non-character/],
    [`replies/${"x".repeat(600)}`, /longer than 512/],
    [`replies/${"é".repeat(300)}`, /longer than 512/],
    ["other-plant/replies/x", /outside the reply prefixes/],
    ["edge-inspect/plant/l1/cam2/replies/x", /outside the reply prefixes/],
    ["replies/", /empty level/],
    ["replies", /outside the reply prefixes/],
    ["Replies/x", /outside the reply prefixes/],
  ];
  for (const [t, why] of refused) assert.match(replyTopicProblem(t, prefixes) ?? "accepted", why, JSON.stringify(t));
  for (const t of ["replies/ctl", "replies/a/b/c", "edge-inspect/plant/l1/cam1/replies/me", "replies/😀", "replies/$x"]) {
    assert.equal(replyTopicProblem(t, prefixes), undefined, t);
  }
});

test("a station topic of any length MQTT allows is a valid topic name", () => {
  assert.equal(topicNameProblem(`a/${"x".repeat(60_000)}`, 65_535), undefined);
  assert.match(topicNameProblem(`a/${"x".repeat(70_000)}`, 65_535)!, /longer than 65535/);
});
