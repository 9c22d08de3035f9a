/** Defaults of `pdr run` (light module: shown in --help without loading the planning code). */
export const DEFAULT_MAX_POINTS = 100_000;
/** A real KOSMA-tau model takes minutes to hours; the default leaves room for slow ones. */
export const DEFAULT_PDR_TIMEOUT_S = 12 * 3600;
export const DEFAULT_ONION_TIMEOUT_S = 2 * 3600;
/** Job names shown by --dry-run. */
export const DRY_RUN_SHOWN_POINTS = 20;
