import { test } from "node:test";
import assert from "node:assert/strict";
import type { IncomingMessage, Publisher } from "../../daemon/publish/publisher.js";
import { rejectsCoded, until } from "./coded.js";

export interface PublisherUnderTest {
  publisher: Publisher;
  /** Delivers a message on `topic` from elsewhere on the plant network. */
  inject(topic: string, payload: string): Promise<void>;
  cleanup(): Promise<void>;
}

/** What every Publisher does, whatever carries its messages. */
export function publisherContract(name: string, make: () => Promise<PublisherUnderTest>): void {
  test(`Publisher contract (${name}): offline publishes are refused with a code; connected ones are acknowledged; subscriptions deliver; close bounds its time and refuses after`, async () => {
    const { publisher: p, inject, cleanup } = await make();
    try {
      assert.equal(p.connected(), false, "not connected before connect()");
      await rejectsCoded(p.publish({ id: "m0", topic: "t/contract/x", payload: "{}", qos: 1 }), ["E_PUBLISH_OFFLINE"], "publish before connect");
      let connects = 0;
      p.onConnect(() => connects++);
      await p.connect();
      await until("connected", () => p.connected());
      await until("the connect listener", () => connects >= 1);
      for (let i = 1; i <= 5; i++) await p.publish({ id: `m${i}`, topic: "t/contract/x", payload: JSON.stringify({ i }), qos: 1 });

      const got: IncomingMessage[] = [];
      await p.subscribe("t/contract/in/+", (m) => got.push(m));
      await inject("t/contract/in/a", '{"a":1}');
      await inject("t/contract/other", '{"b":2}');
      await until("the subscribed message", () => got.length >= 1);
      assert.equal(got[0]!.topic, "t/contract/in/a");
      assert.equal(got[0]!.payload.toString(), '{"a":1}');
      assert.equal(got[0]!.retain, false);

      const t0 = Date.now();
      await p.close(500);
      assert.ok(Date.now() - t0 < 5000, `close(500) took ${Date.now() - t0} ms`);
      assert.equal(p.connected(), false);
      await rejectsCoded(p.publish({ id: "m9", topic: "t/contract/x", payload: "{}", qos: 1 }), ["E_PUBLISH_OFFLINE", "E_PUBLISH_CLOSED"], "publish after close");
      await p.close(500);
      assert.ok(got.every((m) => m.topic.startsWith("t/contract/in/")), "nothing outside the filter was delivered");
    } finally {
      await cleanup();
    }
  });
}
