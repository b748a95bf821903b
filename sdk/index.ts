/**
 * The dis.io SDK for project owners: `import { Grid } from "disio"`. See {@link Grid}.
 */
export { Grid, MapError } from "./grid.js";
export type { GridOptions, MapOptions, ProjectOptions } from "./grid.js";
export { Job } from "./job.js";
export type { AddOptions, AddSummary, Canary, JobResult, ResultsOptions } from "./job.js";
export { GridUrlError, ProjectLookupError } from "./errors.js";
export type { ProgramInput } from "./program-source.js";
export { Encoding, ProjectState, UnitState } from "../gen/disio/v1/common_pb.js";
export type { Project, Result, Unit } from "../gen/disio/v1/admin_service_pb.js";
