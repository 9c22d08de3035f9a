export {
  MASK,
  NOT_SET,
  isSecretKey,
  maskValue,
  maskUrl,
  maskSecrets,
  maskText,
  maskJsonLine,
  registerSecret,
  MIN_REGISTERED_SECRET_LENGTH,
  clearRegisteredSecrets,
  maskKnownSecrets,
} from './mask';
export {
  createLogger,
  jsonLineToText,
  parseLogLevel,
  parseLogFormat,
  LOG_LEVELS,
} from './logger';
export type { Logger, LogFormat, LogLevel, LineSink, CreateLoggerOptions } from './logger';
export { NestPinoLogger } from './nest-logger';
