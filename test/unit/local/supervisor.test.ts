import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  afterCrash,
  defaultRestartPolicy as policy,
  isCrashLooping,
  noCrashes,
  statusLine,
  type CrashHistory,
  type PartState,
  type StackPart,
} from '../../../src/local/supervisor.js';
import { deliveryFromEnv, stackEnvironment } from '../../../src/local/stack.js';

/** Crashes `count` times, each `upMs` after the previous restart; returns the delays and the history. */
function crashRepeatedly(
  count: number,
  upMs: number,
): { delays: number[]; history: CrashHistory; now: number } {
  let history = noCrashes;
  let now = 1_000_000;
  const delays: number[] = [];
  for (let i = 0; i < count; i++) {
    const startedAt = now;
    now += upMs;
    const decision = afterCrash(history, { startedAt, crashedAt: now }, policy);
    delays.push(decision.delayMs);
    history = decision.history;
    now += decision.delayMs;
  }
  return { delays, history, now };
}

describe('restart backoff', () => {
  it('a part that keeps dying at once waits 0.5 s, then twice as long each time, up to 30 s', () => {
    const { delays } = crashRepeatedly(9, 100);
    assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('a part that stayed up 60 s starts the backoff again at 0.5 s', () => {
    const { history, now } = crashRepeatedly(4, 100);
    const after = afterCrash(history, { startedAt: now, crashedAt: now + policy.stableAfterMs }, policy);
    assert.equal(after.delayMs, policy.initialDelayMs);
    const short = afterCrash(history, { startedAt: now, crashedAt: now + 59_000 }, policy);
    assert.equal(short.delayMs, 8000, 'up less than 60 s: the backoff goes on doubling');
  });
});

describe('crash loop', () => {
  it('five restarts within five minutes is a crash loop, four is not', () => {
    assert.equal(isCrashLooping(crashRepeatedly(4, 100).history, crashRepeatedly(4, 100).now), false);
    const five = crashRepeatedly(5, 100);
    assert.equal(isCrashLooping(five.history, five.now), true);
  });

  it('restarts spread over more than five minutes are not a crash loop', () => {
    const { history, now } = crashRepeatedly(6, 100_000);
    assert.equal(isCrashLooping(history, now), false);
  });

  it('the status line names every part and says plainly which one keeps crashing', () => {
    const looping = crashRepeatedly(6, 100);
    const up = (since: number): { state: PartState; history: CrashHistory } => ({
      state: { state: 'up', since },
      history: noCrashes,
    });
    const parts = new Map<StackPart, { state: PartState; history: CrashHistory }>([
      ['azurite', up(0)],
      ['standin', up(0)],
      ['front', { state: { state: 'waiting', restartAt: looping.now + 16_000 }, history: looping.history }],
      ['functions', up(0)],
    ]);
    const line = statusLine(parts, looping.now, policy);
    assert.match(
      line,
      /azurite up \| standin up \| front down, restart in 16 s — KEEPS CRASHING: 6 restarts in 5 min \| functions up/,
    );
  });
});

describe('npm start and the delivery settings', () => {
  const parts = {
    storageConnection: 'UseDevelopmentStorage=true',
    configDir: '/config',
    dataDir: '/data',
    ports: { smtp: 2525, standin: 2526, functions: 7071 },
    pki: { frontCert: 'f.crt', frontKey: 'f.key', caCert: 'ca.crt', clientCert: 'c.crt', clientKey: 'c.key' },
    outbox: '/data/outbox',
    functionKey: 'k',
  };

  it('without SIGRELAY_DELIVERY_HOST the functions deliver to the stand-in, TLS required', () => {
    assert.equal(deliveryFromEnv({}), undefined);
    const env = stackEnvironment(parts);
    assert.equal(env.SIGRELAY_DELIVERY_HOST, '127.0.0.1:2526');
    assert.equal(env.SIGRELAY_DELIVERY_TLS, 'required');
    assert.equal(env.SIGRELAY_DELIVERY_CA, 'ca.crt');
  });

  it('SIGRELAY_DELIVERY_HOST and SIGRELAY_DELIVERY_TLS set for npm start are what the functions get', () => {
    const delivery = deliveryFromEnv({
      SIGRELAY_DELIVERY_HOST: 'contoso-com.mail.protection.outlook.com:25',
      SIGRELAY_DELIVERY_TLS: 'optional',
    });
    const env = stackEnvironment({ ...parts, delivery });
    assert.equal(env.SIGRELAY_DELIVERY_HOST, 'contoso-com.mail.protection.outlook.com:25');
    assert.equal(env.SIGRELAY_DELIVERY_TLS, 'optional');
    assert.equal(env.SIGRELAY_DELIVERY_CLIENT_CERT, 'c.crt', 'the dev client certificate unless one is set');
  });

  it("an operator's own CA and client certificate for that endpoint are kept too", () => {
    const env = stackEnvironment({
      ...parts,
      delivery: deliveryFromEnv({
        SIGRELAY_DELIVERY_HOST: '10.0.0.5:2525',
        SIGRELAY_DELIVERY_CA: '/etc/ca.pem',
        SIGRELAY_DELIVERY_CLIENT_CERT: '/etc/client.pem',
        SIGRELAY_DELIVERY_CLIENT_KEY: '/etc/client.key',
      }),
    });
    assert.equal(env.SIGRELAY_DELIVERY_TLS, 'required');
    assert.equal(env.SIGRELAY_DELIVERY_CA, '/etc/ca.pem');
    assert.equal(env.SIGRELAY_DELIVERY_CLIENT_CERT, '/etc/client.pem');
    assert.equal(env.SIGRELAY_DELIVERY_CLIENT_KEY, '/etc/client.key');
  });
});
