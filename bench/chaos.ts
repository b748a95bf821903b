/**
 * Chaos run: disturbs a grid of real `disio` processes on loopback (servers killed and restarted, a
 * frozen worker, a lying client, an anonymous flood) and prints one verdict line per scenario —
 * units lost, duplicates, longest stall, recovery time, RSS before and after. Run: `npm run chaos`
 * (options: `-- --short` for the CI-sized run, `--json` for a JSON array of verdicts, `--only NAME`).
 * Exits 1 when a verdict fails. Results go in RELIABILITY.md.
 */
import { cpus, loadavg, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { anonymousFlood } from "./chaos/anonymous-flood.js";
import { errorClient } from "./chaos/error-client.js";
import { frozenWorker } from "./chaos/frozen-worker.js";
import { distributorRestart, managerRestart } from "./chaos/restart-scenarios.js";
import { runSpinScenario, type ChaosSize } from "./chaos/spin-scenario.js";
import { formatVerdict, type Verdict } from "./chaos/verdict.js";

const { values } = parseArgs({
  options: {
    short: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    only: { type: "string", multiple: true },
  },
});
const size: ChaosSize = values.short ? "short" : "full";

const scenarios: Record<string, () => Promise<Verdict>> = {
  "distributor-restart": () => runSpinScenario(distributorRestart(size)),
  "manager-restart": () => runSpinScenario(managerRestart(size)),
  "frozen-worker": () => runSpinScenario(frozenWorker(size)),
  "error-client": () => runSpinScenario(errorClient(size)),
  "anonymous-flood": () => anonymousFlood(),
};
const chosen = values.only ?? Object.keys(scenarios);
const unknown = chosen.filter((name) => !(name in scenarios));
if (unknown.length > 0) {
  console.error(`unknown scenario ${unknown.join(", ")}; choose from ${Object.keys(scenarios).join(", ")}`);
  process.exit(2);
}

if (!values.json) {
  console.log(`chaos (${size}) on ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load ${loadavg()[0]!.toFixed(1)}`);
}
const verdicts: Verdict[] = [];
for (const name of chosen) {
  const verdict = await scenarios[name]!();
  verdicts.push(verdict);
  if (!values.json) console.log(formatVerdict(verdict));
}
if (values.json) console.log(JSON.stringify(verdicts));
// Exit now: a scenario that broke may leave a client retrying in this process.
process.exit(verdicts.every((verdict) => verdict.pass) ? 0 : 1);
