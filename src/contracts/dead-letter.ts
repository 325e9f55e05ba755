/**
 * A dead letter as the server stores it (src/storage/dead-letters.ts) and as the console's API
 * answers it (src/admin/contract.ts). Types only, no imports (eslint.config.js refuses any): the
 * console's browser build includes this file.
 */
export interface DeadLetter {
  id: string;
  reason: string;
  tenantId: string;
  sender: string;
  /** How many recipients the message had. */
  recipients: number;
  receivedAt: string;
  deadAt: string;
  /** The stored message's size in bytes. */
  size: number;
}
