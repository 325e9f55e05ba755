import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createDevPki, type DevPki } from '../../src/devtls/index.js';
import { replies } from '../../src/errors/index.js';
import type { StorageClients } from '../../src/storage/index.js';
import {
  assertReply,
  inboundBlobNames,
  message,
  openSession,
  startFront,
  startStorage,
  transaction,
  type RunningFront,
} from '../helpers/front-harness.js';

let storage: StorageClients;
let disposeStorage: () => Promise<void>;
let pki: DevPki;
let front: RunningFront;

before(async () => {
  ({ storage, dispose: disposeStorage } = await startStorage());
  pki = createDevPki();
  front = await startFront({ storage, pki });
});

after(async () => {
  await front.close();
  await disposeStorage();
});

const refusal = replies.nulInData();

test('a NUL byte in the body is refused with 550 5.6.0 and nothing is stored', async () => {
  const client = await openSession(front.port, pki);
  const before = await inboundBlobNames(storage);
  const r = await transaction(client, 'alice@contoso.com', ['bob@example.net'], message({}, 'a\x00b\r\n'));
  assertReply(r.end, refusal.responseCode, refusal.enhancedStatus, 'NUL in the body');
  assert.match(r.end?.text ?? '', /NUL/);
  assert.deepEqual(await inboundBlobNames(storage), before);
  client.close();
});

test('a NUL byte in a header field is refused with 550 5.6.0 and nothing is stored', async () => {
  const client = await openSession(front.port, pki);
  const before = await inboundBlobNames(storage);
  const r = await transaction(
    client,
    'alice@contoso.com',
    ['bob@example.net'],
    message({ 'X-Odd': 'x\x00y' }),
  );
  assertReply(r.end, refusal.responseCode, refusal.enhancedStatus, 'NUL in a header');
  assert.deepEqual(await inboundBlobNames(storage), before);
  client.close();
});

test('after a NUL refusal the same connection still delivers a clean message', async () => {
  const client = await openSession(front.port, pki);
  const nul = await transaction(client, 'alice@contoso.com', ['bob@example.net'], message({}, '\x00\r\n'));
  assertReply(nul.end, refusal.responseCode, refusal.enhancedStatus, 'NUL');
  const clean = await transaction(client, 'alice@contoso.com', ['bob@example.net'], message({}));
  assertReply(clean.end, 250, '2.0.0', 'clean message after the refusal');
  client.close();
});
