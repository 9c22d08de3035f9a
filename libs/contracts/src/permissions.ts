import { EVENTS, names, RPC, RpcName } from './subjects';

/**
 * Least-privilege NATS permissions per role, derived from the subjects above: a role may publish the
 * RPCs it is the `publishedBy` of and subscribe to the ones it answers; JetStream API access is limited
 * to the one job stream and its consumer. deploy/nats/nats-server.conf is rendered from this (a test
 * compares them), so a renamed subject changes the server's permissions with it.
 */
export const ROLES = ['state', 'planner', 'runner', 'cli'] as const;
export type Role = (typeof ROLES)[number];

export interface RolePermissions {
  publish: string[];
  subscribe: string[];
  /** May answer requests it received (reply subjects), and nothing more there. */
  allowResponses: boolean;
}

/** Who listens to each plain event (EVENTS names who publishes it). */
export const EVENT_SUBSCRIBERS: { readonly [K in keyof typeof EVENTS]: readonly Role[] } = {
  progress: ['cli'],
  gridCancelled: ['runner'],
};

/**
 * The reply inbox prefix of a role (PDR_NATS_INBOX_PREFIX): each role subscribes only to its own, so no
 * role can read the replies another one gets (nats.js' default `_INBOX` is shared by everyone).
 */
export function roleInboxPrefix(ns: string, role: Role): string {
  return `_INBOX_${ns}_${role}`;
}

/** The JetStream API subjects of the job stream and consumer, by what a role does with them. */
export function jobStreamApi(ns: string) {
  const n = names(ns);
  const s = n.jobStream;
  const c = n.jobConsumer;
  return {
    /** account info: nc.jetstreamManager() asks it first */
    accountInfo: '$JS.API.INFO',
    streamInfo: `$JS.API.STREAM.INFO.${s}`,
    streamCreate: `$JS.API.STREAM.CREATE.${s}`,
    /** the planner's dispatch: new subjects for a stream of an earlier version, a cancelled grid's events
     * purged, a duplicate publish checked against the message it duplicates */
    streamUpdate: `$JS.API.STREAM.UPDATE.${s}`,
    streamPurge: `$JS.API.STREAM.PURGE.${s}`,
    streamMsgGet: `$JS.API.STREAM.MSG.GET.${s}`,
    consumerInfo: `$JS.API.CONSUMER.INFO.${s}.${c}`,
    consumerCreate: [`$JS.API.CONSUMER.CREATE.${s}.${c}`, `$JS.API.CONSUMER.CREATE.${s}.${c}.>`, `$JS.API.CONSUMER.DURABLE.CREATE.${s}.${c}`],
    /** a runner's pull: "next message" request */
    consumerNext: `$JS.API.CONSUMER.MSG.NEXT.${s}.${c}`,
    /** ack, nak, in-progress and term of delivered job events */
    acks: `$JS.ACK.${s}.${c}.>`,
    /** publishing job events: the planner's dispatch use case only */
    jobEvents: n.jobStreamSubjects,
  };
}

function rpcSubjects(ns: string, pick: (name: RpcName) => boolean): string[] {
  const n = names(ns);
  return (Object.keys(RPC) as RpcName[]).filter(pick).map((name) => n.rpc(name));
}

function eventSubject(ns: string, key: keyof typeof EVENTS): string {
  const n = names(ns);
  return key === 'progress' ? n.progress('*') : n.gridCancelled;
}

export function rolePermissions(ns: string): Record<Role, RolePermissions> {
  const js = jobStreamApi(ns);
  const publishedBy = (role: Role) => rpcSubjects(ns, (r) => RPC[r].publishedBy === role);
  const answeredBy = (role: Role) => rpcSubjects(ns, (r) => RPC[r].answeredBy === role || (RPC[r].answeredBy === 'all' && role !== 'cli'));
  const eventsPublished = (role: Role) => (Object.keys(EVENTS) as Array<keyof typeof EVENTS>).filter((k) => EVENTS[k].publishedBy === role).map((k) => eventSubject(ns, k));
  const eventsHeard = (role: Role) => (Object.keys(EVENTS) as Array<keyof typeof EVENTS>).filter((k) => EVENT_SUBSCRIBERS[k].includes(role)).map((k) => eventSubject(ns, k));
  const manageStream = [js.accountInfo, js.streamInfo, js.streamCreate, js.consumerInfo, ...js.consumerCreate];
  const perms = (role: Role, extraPublish: string[], allowResponses: boolean): RolePermissions => ({
    publish: [...publishedBy(role), ...eventsPublished(role), ...extraPublish],
    subscribe: [...answeredBy(role), ...eventsHeard(role), `${roleInboxPrefix(ns, role)}.>`],
    allowResponses,
  });
  return {
    // state reads the consumer's backlog (metrics) and hands requeued jobs to the planner; it publishes no job event
    state: perms('state', [js.accountInfo, js.streamInfo, js.consumerInfo], true),
    // the planner is the one publisher of job events and keeps the stream and consumer in place (dispatch sweep)
    planner: perms('planner', [...manageStream, js.streamUpdate, js.streamPurge, js.streamMsgGet, js.jobEvents], true),
    // runners pull and acknowledge job events; they never publish them, never create the stream
    // (the planner does) and never ask state for anything beyond the job lifecycle
    runner: perms('runner', [js.accountInfo, js.streamInfo, js.consumerInfo, js.consumerNext, js.acks], true),
    // the CLI may read the consumer's backlog (pdr slurm scale) but not pull from it
    cli: perms('cli', [js.accountInfo, js.streamInfo, js.consumerInfo], false),
  };
}

/** Environment variable holding a role's password in deploy/nats/nats-server.conf. */
export function rolePasswordVariable(role: Role): string {
  return `PDR_NATS_${role.toUpperCase()}_PASSWORD`;
}

/**
 * The nats-server configuration with one user per role (user name = role), passwords from the
 * environment of nats-server (`$PDR_NATS_<ROLE>_PASSWORD`), anonymous connections refused.
 */
export function renderNatsServerConfig(ns: string): string {
  const perms = rolePermissions(ns);
  const list = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
  const lines = [
    '# Generated from libs/contracts (rolePermissions): `npm run deploy:nats` writes it, a test checks it.',
    `# One user per role of the installation with namespace "${ns}" (PDR_NATS_PREFIX). Passwords come`,
    '# from nats-server\'s environment: PDR_NATS_STATE_PASSWORD, PDR_NATS_PLANNER_PASSWORD,',
    '# PDR_NATS_RUNNER_PASSWORD, PDR_NATS_CLI_PASSWORD (nats-server parses them as config values: start',
    '# each with a letter, or wrap it in double quotes). Each service then connects with',
    '# PDR_NATS_USER=<role> PDR_NATS_PASSWORD=<its password>',
    `# PDR_NATS_INBOX_PREFIX=${roleInboxPrefix(ns, 'state').replace(/state$/, '<role>')} (replies only it may read). No user, no connection.`,
    '# Start: nats-server -c nats-server.conf -sd <store dir> (JetStream stores the job stream there).',
    'listen: 0.0.0.0:4222',
    'jetstream: enabled',
    'authorization {',
    '  users: [',
  ];
  for (const role of ROLES) {
    const p = perms[role];
    lines.push(
      '    {',
      `      user: ${role}`,
      `      password: $${rolePasswordVariable(role)}`,
      '      permissions: {',
      `        publish: { allow: ${list(p.publish)} }`,
      `        subscribe: { allow: ${list(p.subscribe)} }`,
      ...(p.allowResponses ? ['        allow_responses: true'] : []),
      '      }',
      '    }',
    );
  }
  lines.push('  ]', '}', '');
  return lines.join('\n');
}
