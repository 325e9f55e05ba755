import type { ApiError } from '../../src/admin/contract';
import { ApiFailure } from './api';

/** The server's error (or a network failure) as the fields a page shows. */
export function apiErrorOf(err: unknown): ApiError {
  if (err instanceof ApiFailure) return err.body;
  const message = err instanceof Error ? err.message : String(err);
  return { error: `The server could not be reached: ${message}`, code: 'unavailable' };
}

/** The message without the `templates/sales.html: line 7: ` the server may already have put in front. */
export function messageOf(error: ApiError): string {
  let message = error.error;
  if (error.file && message.startsWith(`${error.file}: `)) message = message.slice(error.file.length + 2);
  if (error.field && message.startsWith(`${error.field}: `)) message = message.slice(error.field.length + 2);
  if (error.line !== undefined && message.startsWith(`line ${error.line}: `))
    message = message.slice(`line ${error.line}: `.length);
  return message;
}

/** One line naming where the problem is: `templates/sales.html, line 7: unknown tag "iff"`. */
export function describeApiError(error: ApiError): string {
  const where = [error.file, error.field, error.line === undefined ? undefined : `line ${error.line}`]
    .filter(Boolean)
    .join(', ');
  return where ? `${where}: ${messageOf(error)}` : error.error;
}

export function isConflict(err: unknown): err is ApiFailure {
  return err instanceof ApiFailure && err.status === 412;
}
