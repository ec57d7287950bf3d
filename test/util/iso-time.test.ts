import { test } from "node:test";
import assert from "node:assert/strict";
import { parseIsoTime } from "../../daemon/util/iso-time.js";

test("real dates and times parse as Date.parse reads them", () => {
  for (const s of ["2024-05-01", "2024-02-29", "2000-02-29", "2024-05-01T08:00:00Z", "2024-05-01T08:00Z", "2024-05-01T08:00:00.123Z", "2024-05-01T10:00:00+02:00", "2024-05-01T03:30:00-04:30", "2024-12-31T23:59:59.999Z", "2024-05-01T08:00:00"]) {
    assert.deepEqual(parseIsoTime(s), { ms: Date.parse(s) }, s);
  }
  assert.deepEqual(parseIsoTime("2024-05-01T10:00:00+0200"), { ms: Date.parse("2024-05-01T08:00:00Z") });
  // Nine fraction digits are accepted; milliseconds are kept.
  assert.deepEqual(parseIsoTime("2024-05-01T08:00:00.123456789Z"), { ms: Date.parse("2024-05-01T08:00:00.123Z") });
});

test("dates and times that do not exist are refused with the reason, where Date.parse rolls them over", () => {
  assert.equal(new Date(Date.parse("2024-02-30")).toISOString().slice(0, 10), "2024-03-01", "Date.parse rolls over");
  const cases: Array<[string, RegExp]> = [
    ["2024-02-30", /2024-02 has no day 30/],
    ["2023-02-29", /2023-02 has no day 29/],
    ["1900-02-29", /1900-02 has no day 29/],
    ["2024-04-31", /2024-04 has no day 31/],
    ["2024-01-00", /has no day 00/],
    ["2024-13-01", /month 13 does not exist/],
    ["2024-00-01", /month 00 does not exist/],
    ["2024-05-01T24:00Z", /24:00 is not a time of day/],
    ["2024-05-01T23:60Z", /23:60 is not a time of day/],
    ["2024-05-01T23:59:60Z", /23:59:60 is not a time of day/],
    ["2024-05-01T12:00+24:00", /offset \+24:00 does not exist/],
    ["2024-05-01T12:00-00:60", /offset -00:60 does not exist/],
    ["2024-5-1", /not in ISO 8601 form/],
    ["2024-05-01T8:00Z", /not in ISO 8601 form/],
    ["2024-05-01 08:00Z", /not in ISO 8601 form/],
    ["2024-05-01T08:00:00.Z", /not in ISO 8601 form/],
    ["2024-05-01T08:00:00.1234567890Z", /not in ISO 8601 form/],
    ["+002024-05-01", /not in ISO 8601 form/],
    ["2024-05-01T08:00:00ZZ", /not in ISO 8601 form/],
    ["", /not in ISO 8601 form/],
  ];
  for (const [s, why] of cases) {
    const r = parseIsoTime(s);
    assert.ok("error" in r, `${s} was accepted`);
    assert.match(r.error, why, s);
  }
});
