import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AccessToken, TokenCredential } from '@azure/identity';
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  generateAccountSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { createCa, issueCertificate } from '../../src/devtls/index.js';
import { freePort, waitForPort } from '../../src/local/azurite.js';
import { StorageRest, StorageRestError, storageRestFor } from '../../src/storage/rest-client.js';
import type { StorageClients } from '../../src/storage/index.js';
import { startStorage } from '../helpers/front-harness.js';

/** The lean client against a real Azurite: the same blobs and messages the SDK reads and writes. */
describe('storage REST client', () => {
  let env: Awaited<ReturnType<typeof startStorage>>;
  let storage: StorageClients;
  let rest: StorageRest;

  before(async () => {
    env = await startStorage();
    storage = env.storage;
    const client = storageRestFor({ connectionString: env.connectionString });
    assert.ok(client, 'a connection string with an account key gives a client');
    rest = client;
  });
  after(() => env.dispose());

  const readAll = async (stream: NodeJS.ReadableStream) => {
    const chunks: Buffer[] = [];
    for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks);
  };

  it('writes a blob with metadata that the SDK reads back, and reads what the SDK wrote', async () => {
    const body = Buffer.from('From: a@contoso.com\r\n\r\n\u00e9t\u00e9 \x80\xff binary\r\n', 'latin1');
    await rest.putBlob('inbound', 'rest-1', body, { tenant: 't1', mailfrom: encodeURIComponent('a b@c') });
    const props = await storage.inbound.getBlobClient('rest-1').getProperties();
    assert.equal(props.metadata?.tenant, 't1');
    assert.equal(props.metadata?.mailfrom, 'a%20b%40c');
    assert.deepEqual(await storage.inbound.getBlobClient('rest-1').downloadToBuffer(), body);

    await storage.inbound.getBlockBlobClient('sdk-1').upload('hello', 5, { metadata: { size: '5' } });
    const got = await rest.getBlob('inbound', 'sdk-1');
    assert.ok(got);
    assert.equal(got.metadata.size, '5');
    assert.equal(got.contentLength, 5);
    assert.equal((await readAll(got.stream)).toString(), 'hello');
  });

  it('answers undefined / false for a blob that is not there, and deletes once', async () => {
    assert.equal(await rest.getBlob('inbound', 'no-such-blob'), undefined);
    await rest.putBlob('inbound', 'rest-2', Buffer.from('x'), {});
    assert.equal(await rest.deleteBlob('inbound', 'rest-2'), true);
    assert.equal(await rest.deleteBlob('inbound', 'rest-2'), false);
    assert.equal(await storage.inbound.getBlobClient('rest-2').exists(), false);
  });

  it('enqueues text the SDK dequeues unchanged, and deletes it by receipt', async () => {
    const text = Buffer.from(JSON.stringify({ id: 'm1', note: '<&"\'>' })).toString('base64') + '<&>';
    await rest.putMessage('inbound', text);
    const { receivedMessageItems: items } = await storage.inboundQueue.receiveMessages({
      numberOfMessages: 1,
    });
    const [item] = items;
    assert.ok(item);
    assert.equal(item.messageText, text);
    await rest.deleteMessage('inbound', item.messageId, item.popReceipt);
    const props = await storage.inboundQueue.getProperties();
    assert.equal(props.approximateMessagesCount, 0);
    await assert.rejects(
      rest.deleteMessage('inbound', item.messageId, item.popReceipt),
      (err: unknown) => err instanceof StorageRestError && err.statusCode === 404,
    );
  });

  it('names the status and the service error code when storage refuses', async () => {
    const wrongKey = env.connectionString.replace(
      /AccountKey=[^;]+/,
      `AccountKey=${Buffer.alloc(64, 1).toString('base64')}`,
    );
    const bad = storageRestFor({ connectionString: wrongKey });
    assert.ok(bad);
    await assert.rejects(bad.putBlob('inbound', 'rest-3', Buffer.from('x'), {}), (err: unknown) => {
      assert.ok(err instanceof StorageRestError);
      assert.equal(err.statusCode, 403);
      assert.match(err.message, /403/);
      return true;
    });
    await assert.rejects(
      rest.putBlob('no-such-container', 'x', Buffer.from('x'), {}),
      (err: unknown) =>
        err instanceof StorageRestError && err.statusCode === 404 && err.code === 'ContainerNotFound',
    );
  });

  it('works with an account SAS instead of a key', async () => {
    const key = /AccountKey=([^;]+)/.exec(env.connectionString)?.[1] ?? '';
    const sas = generateAccountSASQueryParameters(
      {
        expiresOn: new Date(Date.now() + 3_600_000),
        permissions: AccountSASPermissions.parse('rwdlacup'),
        resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
        services: AccountSASServices.parse('bq').toString(),
      },
      new StorageSharedKeyCredential('devstoreaccount1', key),
    ).toString();
    assert.ok(sas);
    const endpoints = env.connectionString
      .split(';')
      .filter((p) => /^(BlobEndpoint|QueueEndpoint)=/.test(p))
      .join(';');
    const client = storageRestFor({ connectionString: `${endpoints};SharedAccessSignature=${sas}` });
    assert.ok(client);
    await client.putBlob('inbound', 'rest-sas', Buffer.from('via sas'), { tenant: 't2' });
    const got = await client.getBlob('inbound', 'rest-sas');
    assert.ok(got);
    assert.equal(got.metadata.tenant, 't2');
    assert.equal((await readAll(got.stream)).toString(), 'via sas');
    await client.putMessage('inbound', 'c2FzLW1lc3NhZ2U=');
    const { receivedMessageItems } = await storage.inboundQueue.receiveMessages();
    assert.equal(receivedMessageItems[0]?.messageText, 'c2FzLW1lc3NhZ2U=');
  });
});

/**
 * A bearer token, as the managed identity gives in Azure, against Azurite's OAuth mode (HTTPS
 * only; it checks audience, issuer and lifetime, not the signature). The token is fetched once
 * and reused until close to its expiry.
 */
describe('storage REST client with a bearer token', () => {
  let dir: string;
  let child: ReturnType<typeof spawn>;
  let ports: { blob: number; queue: number; table: number };
  let ca: string;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelay-oauth-'));
    const authority = createCa('azurite test CA');
    const server = issueCertificate(authority, { commonName: '127.0.0.1', usage: 'server' });
    ca = authority.cert;
    await fs.writeFile(path.join(dir, 'cert.pem'), server.cert);
    await fs.writeFile(path.join(dir, 'key.pem'), server.key);
    ports = { blob: await freePort(), queue: await freePort(), table: await freePort() };
    const main = createRequire(import.meta.url).resolve('azurite/dist/src/azurite.js');
    child = spawn(
      process.execPath,
      [
        main,
        ...['--location', path.join(dir, 'data'), '--silent', '--skipApiVersionCheck', '--disableTelemetry'],
        ...['--blobHost', '127.0.0.1', '--blobPort', String(ports.blob)],
        ...['--queueHost', '127.0.0.1', '--queuePort', String(ports.queue)],
        ...['--tableHost', '127.0.0.1', '--tablePort', String(ports.table)],
        ...['--oauth', 'basic', '--cert', path.join(dir, 'cert.pem'), '--key', path.join(dir, 'key.pem')],
      ],
      { stdio: 'ignore' },
    );
    await Promise.all([waitForPort(ports.blob), waitForPort(ports.queue)]);
  });
  after(async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('signs every call with the identity token, fetched once', async () => {
    let fetched = 0;
    const credential: TokenCredential = {
      getToken: (scope) => {
        assert.deepEqual([scope].flat(), ['https://storage.azure.com/.default']);
        fetched++;
        return Promise.resolve(fakeToken());
      },
    };
    const base = (port: number) => `https://127.0.0.1:${port}/devstoreaccount1`;
    const rest = new StorageRest({
      blobEndpoint: base(ports.blob),
      queueEndpoint: base(ports.queue),
      auth: { kind: 'bearer', credential },
      ca,
    });
    // Containers and queues are created by Bicep in Azure; here with the same token over plain HTTPS.
    await createResource(`${base(ports.blob)}/inbound?restype=container`, ca);
    await createResource(`${base(ports.queue)}/inbound`, ca);
    await rest.putBlob('inbound', 'bearer-1', Buffer.from('signed by a token'), { tenant: 't3' });
    const got = await rest.getBlob('inbound', 'bearer-1');
    assert.ok(got);
    assert.equal(got.metadata.tenant, 't3');
    got.stream.resume();
    await rest.putMessage('inbound', 'dG9rZW4=');
    assert.equal(await rest.deleteBlob('inbound', 'bearer-1'), true);
    assert.equal(fetched, 1);

    const anonymous = new StorageRest({
      blobEndpoint: base(ports.blob),
      queueEndpoint: base(ports.queue),
      auth: {
        kind: 'bearer',
        credential: { getToken: () => Promise.resolve(fakeToken('https://example.com')) },
      },
      ca,
    });
    await assert.rejects(
      anonymous.putBlob('inbound', 'bearer-2', Buffer.from('x'), {}),
      (err: unknown) => err instanceof StorageRestError && (err.statusCode === 401 || err.statusCode === 403),
    );
  });
});

/** An unsigned JWT with what Azurite's basic OAuth checks: audience, issuer, lifetime. */
function fakeToken(audience = 'https://storage.azure.com'): AccessToken {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = {
    aud: audience,
    iss: 'https://sts.windows.net/ab1f708d-50f6-404c-a006-d71b2ac7a606/',
    iat: now - 60,
    nbf: now - 60,
    exp: now + 3600,
    oid: '00000000-0000-4000-8000-000000000001',
    tid: 'ab1f708d-50f6-404c-a006-d71b2ac7a606',
  };
  return {
    token: `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.${Buffer.from('sig').toString('base64url')}`,
    expiresOnTimestamp: (now + 3600) * 1000,
  };
}

async function createResource(url: string, ca: string): Promise<void> {
  const https = await import('node:https');
  await new Promise<void>((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'PUT',
        ca,
        headers: {
          authorization: `Bearer ${fakeToken().token}`,
          'x-ms-version': '2025-01-05',
          'x-ms-date': new Date().toUTCString(),
          'content-length': '0',
        },
      },
      (res) => {
        res.resume();
        if (res.statusCode === 201 || res.statusCode === 204) resolve();
        else reject(new Error(`creating ${url}: ${res.statusCode}`));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
