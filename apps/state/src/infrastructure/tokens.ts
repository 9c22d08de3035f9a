/** Nest injection tokens of the state service's infrastructure. */
export const ORM = Symbol('ORM');
export const NATS = Symbol('NATS');
export const NAMES = Symbol('NAMES');
export const LOGGER = Symbol('LOGGER');
export const PROGRESS = Symbol('PROGRESS');
/** This database's installation id (a string), part of every job event's identity. */
export const INSTALLATION = Symbol('INSTALLATION');
