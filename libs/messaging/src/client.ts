/**
 * Everything of @pdr/messaging that does not load NestJS: what a runner, the CLI or a bench needs to speak
 * the contract as a client (`@pdr/messaging/client`). The runner is not a Nest application; loading
 * @nestjs/core and @nestjs/microservices cost it ≈ 20 MB of resident memory (an idle runner 99 → 78 MB), and every executable it
 * starts is forked from that memory (docs/benchmarks.md). `@pdr/messaging` adds the Nest contract server.
 */
export * from './connection';
export * from './codec';
export * from './errors';
export * from './contract-client';
export * from './health';
export * from './job-stream';
export * from './metrics';
export * from './admission';
export * from './args';
export * from './periodic';
export * from './process';
