import { LIMITS } from '@pdr/contracts';

/** Defaults of `pdr run` (light module: shown in --help without loading the planning code); the values are the contract's. */
export const DEFAULT_MAX_POINTS = LIMITS.MAX_GRID_POINTS;
export const DEFAULT_PDR_TIMEOUT_S = LIMITS.PDR_TIMEOUT_MS / 1000;
export const DEFAULT_ONION_TIMEOUT_S = LIMITS.ONION_TIMEOUT_MS / 1000;
/** Job names shown by --dry-run. */
export const DRY_RUN_SHOWN_POINTS = 20;
