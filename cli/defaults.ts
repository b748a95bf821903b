/** Where `disio manager` keeps its data when `--data` is not given (relative to the working folder). */
export const DEFAULT_MANAGER_DATA = ".disio/manager";

/** Where `disio distributor` keeps its data when `--data` is not given. */
export const DEFAULT_DISTRIBUTOR_DATA = ".disio/distributor";
