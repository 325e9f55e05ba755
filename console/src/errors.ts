import type { ApiError } from '../../src/admin/contract';
import { ApiFailure } from './api';

/** The server's error (or a network failure) as the fields a page shows. */
export function apiErrorOf(err: unknown): ApiError {
  if (err instanceof ApiFailure) return err.body;
  const message = err instanceof Error ? err.message : String(err);
  return { error: `The server could not be reached: ${message}`, code: 'unavailable' };
}

/** One line naming where the problem is: `templates/sales.html, line 7: unknown tag "iff"`. */
export function describeApiError(error: ApiError): string {
  const where = [error.file, error.field, error.line === undefined ? undefined : `line ${error.line}`]
    .filter(Boolean)
    .join(', ');
  return where ? `${where}: ${error.error}` : error.error;
}

export function isConflict(err: unknown): err is ApiFailure {
  return err instanceof ApiFailure && err.status === 412;
}
