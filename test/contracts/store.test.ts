import { rmSync } from "node:fs";
import { MemoryStore } from "../../daemon/records/memory-store.js";
import { SqliteStore } from "../../daemon/records/sqlite-store.js";
import { quietLog } from "../fakes/quiet-log.js";
import { storeOptions, tempDir } from "../records/parts.js";
import { storeContract } from "./store-contract.js";

storeContract("memory", () => ({ store: new MemoryStore(20), cleanup: () => undefined }));

storeContract("sqlite", () => {
  const dir = tempDir("store-contract");
  return { store: new SqliteStore(storeOptions(dir), quietLog()), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
});
