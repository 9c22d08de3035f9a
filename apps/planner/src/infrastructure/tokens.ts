/** Nest injection tokens of the planner's infrastructure. */
export const CLIENT = Symbol('ContractClient');
export const STREAM = Symbol('JobStream');
export const DISPATCHER = Symbol('JobDispatcher');
export const NAMES = Symbol('Names');
export const LOGGER = Symbol('Logger');
export const NATS = Symbol('NatsConnection');
