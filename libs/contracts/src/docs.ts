import { z } from 'zod';
import { EVENTS, names, RPC, RpcName } from './subjects';
import { errorReply, SCHEMA_VERSION } from './common';
import { jobEvent } from './job';
import { LIMITS } from './limits';

function shape(schema: z.ZodTypeAny): string {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return JSON.stringify(json);
}

/** docs/messages.md, generated from the registry so it cannot drift (a test compares it). */
export function renderMessagesDoc(): string {
  const n = names('pdr');
  const lines: string[] = [
    '# Messages',
    '',
    `Generated from \`libs/contracts\` (schema version ${SCHEMA_VERSION}) by \`npm run docs:messages\`; a test fails when it is stale.`,
    'Subjects are shown for the default namespace `pdr` (env `PDR_NATS_PREFIX`). Every request carries `v`; every',
    'request subject answers either its reply or the standard error reply',
    '`{ "error": { "code": "BAD_REQUEST|NOT_FOUND|CONFLICT|UNAVAILABLE|TOO_LARGE|INTERNAL", "message": "...", "details": ... } }`.',
    '',
    '## Request / reply',
    '',
    '| subject | published by | answered by | what |',
    '| --- | --- | --- | --- |',
  ];
  for (const name of Object.keys(RPC) as RpcName[]) {
    const d = RPC[name];
    lines.push(`| \`${n.rpc(name)}\` | ${d.publishedBy} | ${d.answeredBy === 'all' ? 'every service instance' : d.answeredBy} | ${d.description} |`);
  }
  lines.push('', '## Events', '', '| subject | published by | what |', '| --- | --- | --- |');
  lines.push(`| \`${n.jobSubject('<gridId>', '<jobId>')}\` (JetStream stream \`${n.jobStream}\`, durable consumer \`${n.jobConsumer}\`) | planner (its dispatch use case only) | one job event per point, \`Nats-Msg-Id: job-<installationId>-<jobId>-g<generation>\` |`);
  lines.push(`| \`${n.progress('<gridId>')}\` | ${EVENTS.progress.publishedBy} | ${EVENTS.progress.description} |`);
  lines.push(`| \`${n.gridCancelled}\` | ${EVENTS.gridCancelled.publishedBy} | ${EVENTS.gridCancelled.description} |`);
  lines.push('', '## Limits', '', '| name | value |', '| --- | --- |');
  for (const [k, v] of Object.entries(LIMITS)) lines.push(`| \`${k}\` | ${v} |`);
  lines.push('', '## Payloads (JSON Schema of each request and reply)', '');
  for (const name of Object.keys(RPC) as RpcName[]) {
    const d = RPC[name];
    lines.push(`### \`${n.rpc(name)}\``, '', `request: \`${shape(d.request)}\``, '', `reply: \`${shape(d.reply)}\``, '');
  }
  lines.push('### job event', '', `\`${shape(jobEvent)}\``, '');
  lines.push('### progress event', '', `\`${shape(EVENTS.progress.schema)}\``, '');
  lines.push('### error reply', '', `\`${shape(errorReply)}\``, '');
  return lines.join('\n');
}
