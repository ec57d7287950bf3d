import { MemoryPublisher } from "../../daemon/publish/memory-publisher.js";
import { MqttPublisher } from "../../daemon/publish/mqtt-publisher.js";
import { Mosquitto } from "../fakes/mosquitto.js";
import { quietLog } from "../fakes/quiet-log.js";
import { publisherOptions } from "../publish/publisher-options.js";
import { publisherContract } from "./publisher-contract.js";

const station = { site: "s", line: "l", device: "contract" };

publisherContract("memory", async () => {
  const publisher = new MemoryPublisher();
  return {
    publisher,
    inject: async (topic, payload) => publisher.deliver({ topic, payload: Buffer.from(payload), userProperties: {}, retain: false }),
    cleanup: async () => undefined,
  };
});

publisherContract("mqtt, against Mosquitto", async () => {
  const broker = await Mosquitto.start();
  const publisher = new MqttPublisher(publisherOptions(broker.url, station, "contract-station"), quietLog());
  const plant = new MqttPublisher(publisherOptions(broker.url, { ...station, device: "plant" }, "contract-plant"), quietLog());
  await plant.connect();
  return {
    publisher,
    inject: async (topic, payload) => {
      while (!plant.connected()) await new Promise((r) => setTimeout(r, 10));
      await plant.publish({ id: topic, topic, payload, qos: 1 });
    },
    cleanup: async () => {
      await publisher.close(500);
      await plant.close(500);
      await broker.stop();
    },
  };
});
