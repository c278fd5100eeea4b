// Structured logs, quiet by default: warnings and errors only unless LOG_LEVEL says more.
import { type Logger, pino } from 'pino';

export function createLogger(level = process.env.LOG_LEVEL ?? 'warn'): Logger {
  return pino({ level, base: { name: 'tus-s3' } });
}

export const silentLogger: Logger = pino({ level: 'silent' });
