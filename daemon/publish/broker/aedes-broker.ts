import { createServer, type Server } from "node:net";
import { Aedes } from "aedes";
import { EdgeError } from "../../util/errors.js";
import type { Logger } from "../../util/log.js";
import { BROKER_HOST, type EmbeddedBroker } from "./embedded-broker.js";

/** aedes in the station's process (MQTT 3.1.1; the station falls back to it): for a machine without Mosquitto. */
export class AedesBroker implements EmbeddedBroker {
  readonly kind = "aedes";

  private constructor(
    readonly port: number,
    private readonly broker: Aedes,
    private readonly server: Server,
  ) {}

  static async start(port: number, log: Logger): Promise<AedesBroker> {
    const broker = await Aedes.createBroker();
    broker.on("clientError", (client, err) => log.debug({ broker: "aedes", client: client.id, err: err.message }, "broker: client error"));
    const server = createServer(broker.handle);
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) => reject(new EdgeError("E_BROKER_START", `aedes cannot listen on ${BROKER_HOST}:${port}: ${err.code ?? err.message}`)));
      server.listen(port, BROKER_HOST, () => resolve());
    });
    return new AedesBroker((server.address() as { port: number }).port, broker, server);
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.broker.close(() => r()));
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
