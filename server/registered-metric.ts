import type { Metric, Registry } from "prom-client";

/**
 * The metric `name` already in `registry` (two servers of one process share a registry, and
 * prom-client refuses a second registration), else the one `make` creates and registers.
 */
export function registeredMetric<T extends Metric>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}
