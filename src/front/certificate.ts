import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import tls from 'node:tls';
import { describeError } from '../errors/index.js';
import type { Logger } from '../log/index.js';

export interface KeyPair {
  cert: string | Buffer;
  key: string | Buffer;
}

/**
 * The front's certificate and key as files (a Key Vault secret volume in Azure). Polled rather than
 * watched: secret volumes are swapped by symlink, which fs.watch misses on some filesystems. A new
 * pair is validated as a TLS context before it is offered, and a broken or half-written pair
 * (cert rotated, key not yet) keeps the last good one serving.
 */
export class CertificateFiles {
  readonly certFile: string;
  readonly keyFile: string;
  private current: KeyPair | undefined;
  private fingerprint = '';
  private timer: NodeJS.Timeout | undefined;
  private lastError: string | undefined;

  constructor(files: { certFile: string; keyFile: string }) {
    this.certFile = files.certFile;
    this.keyFile = files.keyFile;
  }

  /** Reads the pair; throws when it is missing or invalid (a front without a certificate must not start). */
  async load(): Promise<KeyPair> {
    const pair = await this.read();
    tls.createSecureContext(pair);
    this.current = pair;
    this.fingerprint = digest(pair);
    return pair;
  }

  get pair(): KeyPair | undefined {
    return this.current;
  }

  /** Why the latest reload attempt failed, if it did (served pair unchanged). */
  get reloadError(): string | undefined {
    return this.lastError;
  }

  /** Calls `onChange` with each new valid pair; existing TLS sessions keep theirs. */
  watch(intervalMs: number, log: Logger, onChange: (pair: KeyPair) => void): void {
    this.timer = setInterval(() => {
      this.read().then(
        (pair) => {
          const next = digest(pair);
          if (next === this.fingerprint) return;
          try {
            tls.createSecureContext(pair);
          } catch (err) {
            this.lastError = describeError(err);
            log.error(
              { err: this.lastError },
              'new TLS certificate/key is invalid; keeping the previous one',
            );
            return;
          }
          this.current = pair;
          this.fingerprint = next;
          this.lastError = undefined;
          onChange(pair);
          log.info({ certFile: this.certFile }, 'TLS certificate reloaded');
        },
        (err: unknown) => {
          this.lastError = describeError(err);
          log.error({ err: this.lastError }, 'reading the TLS certificate failed; keeping the previous one');
        },
      );
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async read(): Promise<KeyPair> {
    const [cert, key] = await Promise.all([fs.readFile(this.certFile), fs.readFile(this.keyFile)]);
    return { cert, key };
  }
}

function digest(pair: KeyPair): string {
  return crypto.createHash('sha256').update(pair.cert).update('\0').update(pair.key).digest('hex');
}
