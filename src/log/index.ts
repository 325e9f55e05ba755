import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The product's structured logger. Every line carries correlation ids (session id, message id) set
 * through child loggers. Bodies, subjects and attachment names are never passed to it; the redact
 * list is a second line of defence for fields that must never leave the process.
 */
export function createLogger(name: string, options: { level?: string } = {}): Logger {
  return pino({
    name,
    level: options.level ?? process.env.SIGRELAY_LOG_LEVEL ?? 'info',
    base: { svc: name },
    redact: {
      paths: ['subject', '*.subject', 'body', '*.body', 'password', '*.password', 'key', '*.key'],
      censor: '[redacted]',
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

/** A logger that drops everything: for tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
