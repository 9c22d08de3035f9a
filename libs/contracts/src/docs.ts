import { z } from 'zod';
import { EVENTS, names, RPC, RpcName } from './subjects';
import { errorReply, SCHEMA_VERSION } from './common';
import { jobEvent } from './job';
import { LIMITS } from './limits';

function jsonSchema(schema: z.ZodTypeAny, io: 'input' | 'output' = 'input'): Record<string, unknown> {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
}

function shape(schema: z.ZodTypeAny): string {
  const json = jsonSchema(schema);
  delete json.$schema;
  return JSON.stringify(json);
}

/**
 * docs/schemas/: one JSON Schema file per request and reply of every subject, and per event, for clients
 * in other languages (e.g. Python's `jsonschema`). Requests are described as a client may send them
 * (defaults optional), replies as the services send them. File name → content; a test compares them.
 */
export function renderJsonSchemas(): Record<string, string> {
  const n = names('pdr');
  const out: Record<string, string> = {};
  const put = (file: string, title: string, schema: z.ZodTypeAny, io: 'input' | 'output') => {
    out[file] = `${JSON.stringify({ title, ...jsonSchema(schema, io) }, null, 2)}\n`;
  };
  for (const name of Object.keys(RPC) as RpcName[]) {
    const d = RPC[name];
    put(`${d.suffix}.request.json`, `${n.rpc(name)} request`, d.request, 'input');
    put(`${d.suffix}.reply.json`, `${n.rpc(name)} reply`, d.reply, 'output');
  }
  put('jobs.run.event.json', 'job event', jobEvent, 'output');
  put(`${EVENTS.progress.suffix}.event.json`, 'progress event', EVENTS.progress.schema, 'output');
  put(`${EVENTS.gridCancelled.suffix}.event.json`, 'grid cancelled event', EVENTS.gridCancelled.schema, 'output');
  put('error.reply.json', 'error reply', errorReply, 'output');
  return out;
}

/** docs/messages.md, generated from the registry so it cannot drift (a test compares it). */
export function renderMessagesDoc(): string {
  const n = names('pdr');
  const lines: string[] = [
    '# Messages',
    '',
    `Generated from \`libs/contracts\` (schema version ${SCHEMA_VERSION}) by \`npm run docs:messages\`; a test fails when it is stale.`,
    'Each request, reply and event is also a JSON Schema file of its own in [schemas/](schemas/) (for clients in other languages).',
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
