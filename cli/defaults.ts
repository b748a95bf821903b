/** Where `disio manager` keeps its data when `--data` is not given (relative to the working folder). */
export const DEFAULT_MANAGER_DATA = ".disio/manager";

/** Where `disio distributor` keeps its data when `--data` is not given. */
export const DEFAULT_DISTRIBUTOR_DATA = ".disio/distributor";

/** Where `disio worker` keeps its state when neither `--state` nor `DISIO_HOME` is given (relative to the home folder). */
export const DEFAULT_WORKER_STATE = ".disio";

/** The worker's memory of trusted manager keys, inside its state folder. */
export const TRUSTED_KEYS_FILE = "trusted-keys.json";
