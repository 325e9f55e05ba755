/**
 * The end-to-end benchmark counts storage requests from Azurite's debug log. The fixture is a real
 * log captured from Azurite 3.35 (`--debug`): a blob upload and listing, a queue enqueue, dequeue
 * with a message, message delete and empty dequeue, and a table $batch, with the start-up and GC
 * lines around them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  backgroundKind,
  parseAzuriteDebugLog,
  requestLabel,
  tallyRequests,
  type StorageRequest,
} from '../../../bench/azurite-log.js';

const fixtures = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../test/fixtures/bench',
);
const log = fs.readFileSync(path.join(fixtures, 'azurite-debug-log.txt'), 'utf8');

describe('Azurite debug log', () => {
  it('gives one record per storage request, with its service, method, target, operation and status', () => {
    const requests = parseAzuriteDebugLog(log);
    assert.deepEqual(
      requests.map((r) => [r.service, r.method, r.resource, r.operation, r.status]),
      [
        ['blob', 'PUT', 'inbound', 'BlockBlob_Upload', 201],
        ['blob', 'GET', 'inbound', 'Container_ListBlobFlatSegment', 200],
        ['queue', 'POST', 'claims', 'Messages_Enqueue', 201],
        ['queue', 'GET', 'claims', 'Messages_Dequeue', 200],
        ['queue', 'DELETE', 'claims', 'MessageId_Delete', 204],
        ['queue', 'GET', 'claims', 'Messages_Dequeue', 200],
        ['table', 'POST', '$batch', 'Table_Batch', 202],
      ],
    );
    assert.equal(requests[0]?.at, Date.parse('2026-12-02T07:04:47.222Z'));
  });

  it('counts a poll that found the queue empty as background, and a dequeue that got a message as work', () => {
    const dequeues = parseAzuriteDebugLog(log).filter((r) => r.operation === 'Messages_Dequeue');
    assert.deepEqual(
      dequeues.map((r) => [r.messages, backgroundKind(r)]),
      [
        [1, undefined],
        [0, 'empty queue poll'],
      ],
    );
  });

  it('names the table a $batch writes to', () => {
    const batch = parseAzuriteDebugLog(log).find((r) => r.operation === 'Table_Batch');
    assert.deepEqual(batch?.batchTables, ['trace']);
    assert.equal(batch && requestLabel(batch), 'table POST $batch trace');
  });

  it('counts as background what the same operation costs while the stack is idle', () => {
    const at = (s: number, operation = 'Table_QueryEntities'): StorageRequest => ({
      at: s * 1000,
      id: String(s),
      service: 'table',
      method: 'GET',
      resource: 'sigrelaylimits',
      operation,
    });
    // Idle: one query every 5 s. Window of 10 s: two of its five queries are the timer's.
    const requests = [
      at(0),
      at(5),
      at(100),
      at(102),
      at(104),
      at(106),
      at(108),
      at(101, 'Table_UpdateEntity'),
    ];
    const tally = tallyRequests(requests, { from: 100_000, to: 110_000 }, { from: 0, to: 10_000 });
    assert.deepEqual(
      tally.rows.map((r) => [r.operation, r.all, r.background, r.messagePath]),
      [
        ['Table_QueryEntities', 5, 2, 3],
        ['Table_UpdateEntity', 1, 0, 1],
      ],
    );
    assert.deepEqual([tally.all, tally.background, tally.messagePath], [6, 2, 4]);
  });
});
