/**
 * The doctor's SMTP probe against endpoints that stop answering, on loopback: each step is bounded,
 * so neither `sigrelay doctor` nor the console request running it can hang.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { probe } from '../../../src/doctor/index.js';

/** Answers the greeting, EHLO (offering STARTTLS) and STARTTLS, then never speaks TLS. */
function stallAfterStartTls(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.write('220 stall.example ESMTP\r\n');
    let buffer = '';
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const line = buffer.slice(0, i).trim().toUpperCase();
        buffer = buffer.slice(i + 1);
        if (line.startsWith('EHLO')) socket.write('250-stall.example\r\n250 STARTTLS\r\n');
        else if (line === 'STARTTLS') socket.write('220 go ahead\r\n');
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () => {
          for (const s of sockets) s.destroy();
          return new Promise((done) => server.close(() => done()));
        },
      }),
    ),
  );
}

/** Answers the greeting, then drips an EHLO reply that never ends, one line at a time. */
function dripEhlo(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.write('220 drip.example ESMTP\r\n');
    socket.once('data', () => {
      const timer = setInterval(() => socket.write('250-still thinking\r\n'), 20);
      timers.add(timer);
      socket.on('close', () => clearInterval(timer));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () => {
          for (const t of timers) clearInterval(t);
          for (const s of sockets) s.destroy();
          return new Promise((done) => server.close(() => done()));
        },
      }),
    ),
  );
}

describe('the doctor SMTP probe', () => {
  const servers: { close: () => Promise<void> }[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  it('reports an endpoint that accepts STARTTLS and then stalls as a TLS handshake failure', async () => {
    const server = await stallAfterStartTls();
    servers.push(server);
    const result = await probe({
      host: '127.0.0.1',
      port: server.port,
      ehloName: 'relay.contoso.com',
      mailFrom: 'postmaster@contoso.com',
      rcptTo: 'postmaster@contoso.com',
      tls: 'required',
      timeoutMs: 300,
    });
    assert.equal(result.outcome, 'failed');
    assert.deepEqual(
      result.steps.map((s) => s.step),
      ['connect 127.0.0.1:' + server.port, 'greeting', 'EHLO relay.contoso.com', 'STARTTLS', 'TLS handshake'],
    );
    assert.match(result.steps.at(-1)?.error ?? '', /no TLS handshake within 300 ms/);
  });

  it('ends a session whose endpoint drips a reply that never finishes, at the session bound', async () => {
    const server = await dripEhlo();
    servers.push(server);
    const result = await probe({
      host: '127.0.0.1',
      port: server.port,
      ehloName: 'relay.contoso.com',
      mailFrom: 'postmaster@contoso.com',
      rcptTo: 'postmaster@contoso.com',
      tls: 'required',
      timeoutMs: 10_000,
      sessionTimeoutMs: 300,
    });
    assert.equal(result.outcome, 'failed');
    const last = result.steps.at(-1);
    assert.equal(last?.step, 'EHLO relay.contoso.com');
    assert.match(last?.error ?? '', /the session took longer than 300 ms/);
  });
});
