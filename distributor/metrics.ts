import { Counter, Gauge, type Registry } from "prom-client";
import type { StoreCounts } from "./store/store.js";
import type { WorkHubEvents } from "./work-hub.js";

/**
 * Registers the distributor's metrics: queue depth, copies held and given, results buffered
 * (gauges read at scrape time) and counters of tasks given, results received, duplicates and copies
 * leased. Returns the hooks that bump the counters.
 */
export function registerDistributorMetrics(
  registry: Registry,
  read: { counts: () => Promise<StoreCounts>; clients: () => number },
): Required<WorkHubEvents> & { leased(count: number): void; reported(count: number): void } {
  const gauge = (name: string, help: string, pick: (c: StoreCounts) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(pick(await read.counts()));
      },
    });
  gauge("disio_distributor_queue_depth", "Copies held and ready to hand out.", (c) => c.ready);
  gauge("disio_distributor_copies_held", "Copies held (ready or in clients' hands).", (c) => c.held);
  gauge("disio_distributor_copies_given", "Copies in clients' hands.", (c) => c.given);
  gauge("disio_distributor_results_buffered", "Results stored and not yet acknowledged by a manager.", (c) => c.results);
  new Gauge({
    name: "disio_distributor_clients",
    help: "Clients with an open Work stream.",
    registers: [registry],
    collect() {
      this.set(read.clients());
    },
  });
  const counter = (name: string, help: string) => new Counter({ name, help, registers: [registry] });
  const given = counter("disio_distributor_tasks_given_total", "Tasks handed to clients.");
  const received = counter("disio_distributor_results_received_total", "Results stored from clients.");
  const duplicates = counter("disio_distributor_result_duplicates_total", "Results for copies already reported.");
  const leased = counter("disio_distributor_copies_leased_total", "Copies leased from managers.");
  const extras = counter("disio_distributor_extra_copies_given_total", "Extra copies of held units handed to clients while no manager answered.");
  const reported = counter("disio_distributor_results_reported_total", "Results acknowledged by managers.");
  return {
    tasksGiven: (count) => given.inc(count),
    resultsReceived: (outcome) => {
      received.inc(outcome.accepted);
      duplicates.inc(outcome.duplicates);
    },
    extraCopiesGiven: (count) => extras.inc(count),
    leased: (count) => leased.inc(count),
    reported: (count) => reported.inc(count),
  };
}
