import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { storeConformance } from "../store-conformance.js";
import { openSqliteStore } from "./sqlite-store.js";

storeConformance("sqlite", {
  async create() {
    const dir = await mkdtemp(join(tmpdir(), "disio-dstore-"));
    const path = join(dir, "distributor.sqlite");
    return {
      store: openSqliteStore({ path }),
      reopen: async () => openSqliteStore({ path }),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
});
