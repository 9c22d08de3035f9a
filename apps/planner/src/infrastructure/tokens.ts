/** Nest injection tokens of the planner's infrastructure. */
export const CLIENT = Symbol('ContractClient');
export const PUBLISHER = Symbol('JobPublisher');
export const NAMES = Symbol('Names');
export const LOGGER = Symbol('Logger');
export const NATS = Symbol('NatsConnection');
