/**
 * The physics columns of pdr_run's `kosmatau_parameters` table (SPEC §4.5) and the built-in
 * parameter defaults of pdr_run's `default_config.py` (SPEC §2.1).
 *
 * Column ORDER is pdr_run's declaration order in `database/models.py` (the order of the parameter
 * rows in compat/vectors.jsonl). SPEC §4.5 lists the same columns grouped by type; the declaration
 * order is what matters, because pdr_run substitutes template placeholders in this order.
 * `id`, `model_name_id`, `time_created` and `comments` are not physics columns and are not listed.
 */

/** Value kind of a column: Float → 'float', Integer → 'int', String(50) → 'string', Text → 'text'. */
export type ParameterKind = 'float' | 'int' | 'string' | 'text';

export interface ParameterColumn {
  readonly name: string;
  readonly kind: ParameterKind;
  /** ORM default of pdr_run; `null` where pdr_run has `default=None` (values computed per point). */
  readonly default: number | string | null;
}

/** Column default of `kosmatau_parameters.species` (SPEC §3.5 says 41 species; pdr_run's
 * models.py string holds 40; used only when no chemistry is given). */
export const KOSMATAU_SPECIES_COLUMN_DEFAULT =
  'H+ H2+ H3+ HE+ HE C CH CO C+ CH+ CH2+ CO+ HCO+ 13C 13CH 13CO 13C+ 13CH+ 13CH2+' +
  ' 13CO+ H13CO+ O OH H2O O2 O+ OH+ H2O+ H3O+ S S+ HS HS+ H2S+ CS HCS+ SO SO+' +
  ' CH2 CH3+';

/** Every physics column of `kosmatau_parameters`, in pdr_run's declaration order, with its default. */
export const KOSMATAU_PARAMETER_DEFAULTS: readonly ParameterColumn[] = Object.freeze([
  { name: 'xnsur', kind: 'float', default: null },
  { name: 'mass', kind: 'float', default: null },
  { name: 'rtot', kind: 'float', default: null },
  { name: 'rcore', kind: 'float', default: 0.2 },
  { name: 'alpha', kind: 'float', default: 1.5 },
  { name: 'sigd', kind: 'float', default: 1.9e-21 },
  { name: 'sint', kind: 'float', default: null },
  { name: 'cosray', kind: 'float', default: 2e-16 },
  { name: 'beta', kind: 'float', default: -1.0 },
  { name: 'zmetal', kind: 'float', default: 1.0 },
  { name: 'preshh2', kind: 'float', default: 0.0 },
  { name: 'preshco', kind: 'float', default: 0.0 },
  { name: 'ifuvmeth', kind: 'int', default: 1 },
  { name: 'idustmet', kind: 'int', default: 1 },
  { name: 'ifuvtype', kind: 'int', default: 2 },
  { name: 'fuvtemp', kind: 'float', default: 20000.0 },
  { name: 'fuvstring', kind: 'string', default: 'Lyalpha.fuv' },
  { name: 'inewgam', kind: 'int', default: 0 },
  { name: 'iscatter', kind: 'int', default: -1 },
  { name: 'ihtclgas', kind: 'int', default: 1 },
  { name: 'tgasc', kind: 'float', default: 50.0 },
  { name: 'ihtcldust', kind: 'int', default: 1 },
  { name: 'tdustc', kind: 'float', default: 20.0 },
  { name: 'ipehmeth', kind: 'int', default: 1 },
  { name: 'indxpeh', kind: 'int', default: 4 },
  { name: 'ihtclpah', kind: 'int', default: 1 },
  { name: 'indstr', kind: 'int', default: 1 },
  { name: 'inds', kind: 'int', default: 4 },
  { name: 'indx', kind: 'int', default: 7 },
  { name: 'd2gratio1', kind: 'float', default: 0.00827485 },
  { name: 'd2gratio2', kind: 'float', default: 0.00227746 },
  { name: 'd2gratio3', kind: 'float', default: 0.000375578 },
  { name: 'd2gratio4', kind: 'float', default: 0.000375578 },
  { name: 'd2gratio5', kind: 'float', default: 0.0 },
  { name: 'd2gratio6', kind: 'float', default: 0.0 },
  { name: 'd2gratio7', kind: 'float', default: 0.0 },
  { name: 'd2gratio8', kind: 'float', default: 0.0 },
  { name: 'd2gratio9', kind: 'float', default: 0.0 },
  { name: 'd2gratio10', kind: 'float', default: 0.0 },
  { name: 'ih2meth', kind: 'int', default: 1 },
  { name: 'ih2onpah', kind: 'int', default: 0 },
  { name: 'h2formc', kind: 'float', default: 2.121e-17 },
  { name: 'ih2shld', kind: 'int', default: 0 },
  { name: 'h2_structure', kind: 'int', default: 0 },
  { name: 'h2_h_coll_rates', kind: 'int', default: 3 },
  { name: 'h2_h_reactive_colls', kind: 'int', default: 1 },
  { name: 'h2_use_gbar', kind: 'int', default: 1 },
  { name: 'h2_quad_a', kind: 'int', default: 1 },
  { name: 'ifh2des', kind: 'int', default: 1 },
  { name: 'ifcrdes', kind: 'int', default: 2 },
  { name: 'ifphdes', kind: 'int', default: 1 },
  { name: 'ifthdes', kind: 'int', default: 1 },
  { name: 'bindsites', kind: 'float', default: 1500000000000000.0 },
  { name: 'ifchemheat', kind: 'int', default: 0 },
  { name: 'ifheat_alfven', kind: 'int', default: 0 },
  { name: 'alfven_velocity', kind: 'float', default: 330000.0 },
  { name: 'alfven_column', kind: 'float', default: 4e+20 },
  { name: 'temp_start', kind: 'float', default: 0.0 },
  { name: 'itmeth', kind: 'int', default: 2 },
  { name: 'ichemeth', kind: 'int', default: 0 },
  { name: 'inewtonstep', kind: 'int', default: 1 },
  { name: 'omega_neg', kind: 'float', default: 5.0 },
  { name: 'omega_pos', kind: 'float', default: 2.0 },
  { name: 'lambda_newt', kind: 'float', default: 0.5 },
  { name: 'use_conservation', kind: 'int', default: 1 },
  { name: 'rescaleQF', kind: 'int', default: 0 },
  { name: 'precondLR', kind: 'int', default: 0 },
  { name: 'resortQF', kind: 'int', default: 0 },
  { name: 'nconv_time', kind: 'int', default: 0 },
  { name: 'time_dependent', kind: 'int', default: 0 },
  { name: 'use_dlsodes', kind: 'int', default: 1 },
  { name: 'use_dlsoda', kind: 'int', default: 0 },
  { name: 'use_dvodpk', kind: 'int', default: 0 },
  { name: 'first_time_step_yrs', kind: 'float', default: 1e-10 },
  { name: 'max_time_yrs', kind: 'float', default: 10000000.0 },
  { name: 'num_time_steps', kind: 'int', default: 0 },
  { name: 'rtol_chem', kind: 'float', default: 0.01 },
  { name: 'atol_chem', kind: 'float', default: 1e-10 },
  { name: 'Xhtry', kind: 'float', default: 1000000.0 },
  { name: 'Niter', kind: 'int', default: 60 },
  { name: 'rtol_iter', kind: 'float', default: 0.03 },
  { name: 'step1', kind: 'float', default: 100.0 },
  { name: 'step2', kind: 'float', default: 200.0 },
  { name: 'ihdfout', kind: 'int', default: 4 },
  { name: 'dbglvl', kind: 'int', default: 0 },
  { name: 'grid', kind: 'int', default: 0 },
  { name: 'elfrac4', kind: 'float', default: 0.0851 },
  { name: 'elfrac12', kind: 'float', default: 0.000234 },
  { name: 'elfrac13', kind: 'float', default: 3.52e-06 },
  { name: 'elfrac14', kind: 'float', default: 8.32e-05 },
  { name: 'elfrac16', kind: 'float', default: 0.000447 },
  { name: 'elfrac18', kind: 'float', default: 8.93e-07 },
  { name: 'elfrac19', kind: 'float', default: 6.68e-09 },
  { name: 'elfrac20', kind: 'float', default: 6.9e-05 },
  { name: 'elfrac23', kind: 'float', default: 2e-07 },
  { name: 'elfrac24', kind: 'float', default: 3.2e-06 },
  { name: 'elfrac27', kind: 'float', default: 2.8e-06 },
  { name: 'elfrac28', kind: 'float', default: 3.17e-06 },
  { name: 'elfrac31', kind: 'float', default: 1.17e-07 },
  { name: 'elfrac32', kind: 'float', default: 7.41e-06 },
  { name: 'elfrac35', kind: 'float', default: 1e-07 },
  { name: 'elfrac39', kind: 'float', default: 1.35e-07 },
  { name: 'elfrac40', kind: 'float', default: 3.29e-06 },
  { name: 'elfrac41', kind: 'float', default: 2.2e-06 },
  { name: 'elfrac56', kind: 'float', default: 1e-06 },
  { name: 'species', kind: 'text', default: KOSMATAU_SPECIES_COLUMN_DEFAULT },
].map((c) => Object.freeze(c as ParameterColumn)));

/** Column name → column, for lookups. */
export const KOSMATAU_PARAMETER_COLUMNS: ReadonlyMap<string, ParameterColumn> = new Map(
  KOSMATAU_PARAMETER_DEFAULTS.map((c) => [c.name, c]),
);

/** Column names in declaration order. */
export const KOSMATAU_PARAMETER_NAMES: readonly string[] = Object.freeze(
  KOSMATAU_PARAMETER_DEFAULTS.map((c) => c.name),
);

/**
 * pdr_run's built-in `non_default_parameters` (SPEC §2.1, 26 keys). NOTE: pdr_run never writes these
 * to the database (SPEC §2.6, defect 3): its rows and rendered inputs (compat/vectors.jsonl) show the
 * COLUMN defaults (e.g. cosray 2e-16, beta -1.0, ih2meth 1). Whether to apply them is the caller's
 * choice; applying them changes the rendered inputs compared with pdr_run.
 */
export const PDR_RUN_NON_DEFAULT_PARAMETERS: Readonly<Record<string, number>> = Object.freeze({
  ihtclgas: 1,
  tgasc: 50.0,
  ihtcldust: 1,
  tdustc: 20,
  idustmet: 1,
  ih2meth: 0,
  cosray: 1.0e-16,
  beta: 1.0e5,
  ifuvtype: 2,
  ifuvmeth: 1,
  inewgam: 0,
  ipehmeth: 1,
  inds: 4,
  indstr: 1,
  ih2shld: 0,
  indxpeh: 4,
  indx: 7,
  ih2onpah: 0,
  step1: 100,
  step2: 200,
  nconv_time: 0,
  temp_start: 0.0,
  atol_chem: 1.0e-10,
  h2_structure: 0,
  itmeth: 2,
  rtol_iter: 3.0e-2,
});

/**
 * pdr_run's 105-species chemistry string (DEFAULT_PARAMETERS.chemistry), verbatim including its runs
 * of multiple spaces and trailing space: it is stored as `kosmatau_parameters.species`.
 */
export const DEFAULT_CHEMISTRY =
  'HE+ HE H+ H2+ H3+ C CH C+ CH+ CH2+ CH2 CH3+ CH3   CH4+ CH4 CH5+ CN CN+ HCN HCN+ CO CO+ HCO+ HCO CO2 CO2+  H2CO H2CO+   13C 13CH 13CO 13C+ 13CH+   13CH2+ 13CO+ H13CO+ N N2 N2+ N2H+ NO NO+ O   O+ OH OH+ H2O H2O+ H3O+   O2 O2+ 18O   C18O 13C18O O18O O18O+ 18OH 18OH+ H218O H218O+ H318O+ SO   SO+ SO2 SO2+ HSO2+ S S+ SI SI+ SIH SIH+   SIH2+ SIO SIO+ SIOH+   CH3OH+ CH3O CH3OH H2O2 JH JC JCH JCH2 JCH3 JCH4   JCN JHCN JCO JHCO JCO2 JH2CO JCH3O JCH3OH JN JN2   JNO JO JOH JH2O JH2O2 JO2 JSO JSO2 JS ';

/** pdr_run's DEFAULT_PARAMETERS (SPEC §2.1): grid axes (encoded strings), onion species, geometry. */
export interface DefaultModelParameters {
  readonly metal: readonly string[];
  readonly dens: readonly string[];
  readonly mass: readonly string[];
  readonly chi: readonly string[];
  readonly species: readonly string[];
  readonly alpha: number;
  readonly rcore: number;
  readonly chemistry: string;
}

export const DEFAULT_MODEL_PARAMETERS: DefaultModelParameters = Object.freeze({
  metal: Object.freeze(['100']),
  dens: Object.freeze(['30']),
  mass: Object.freeze(['-10']),
  chi: Object.freeze(['10']),
  species: Object.freeze(['CO', 'C+', 'C', 'O', '13C+', '13C', '13CO', 'OH', 'CH+', 'HCO+', 'H13CO+']),
  alpha: 1.5,
  rcore: 0.2,
  chemistry: DEFAULT_CHEMISTRY,
});
