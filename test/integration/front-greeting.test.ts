import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, mock, test } from 'node:test';
import { createDevPki } from '../../src/devtls/index.js';
import { startFront, startStorage, type RunningFront } from '../helpers/front-harness.js';

let front: RunningFront;
let disposeStorage: () => Promise<void>;

before(async () => {
  const env = await startStorage();
  disposeStorage = env.dispose;
  front = await startFront({ storage: env.storage, pki: createDevPki() });
});

after(async () => {
  await front.close();
  await disposeStorage();
});

/** The first reply line on a fresh connection, or a marker when none comes before `give-up` fires. */
function firstLine(port: number, giveUp: Promise<void>): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n');
      if (end >= 0) {
        socket.destroy();
        resolve(text.slice(0, end));
      }
    });
    socket.on('error', reject);
    void giveUp.then(() => {
      socket.destroy();
      resolve('(no greeting)');
    });
  });
}

test("the front greets without smtp-server's fixed early-talker wait", async () => {
  // smtp-server sends its 220 from a 100 ms setTimeout. With setTimeout frozen, that greeting could
  // never come; the front's comes at once. The give-up signal uses setImmediate chains, not timers.
  const giveUp = new Promise<void>((resolve) => {
    let turns = 0;
    const spin = () => (++turns > 20_000 ? resolve() : setImmediate(spin));
    spin();
  });
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const line = await firstLine(front.port, giveUp);
    assert.match(line, /^220 sigrelay\.local /);
  } finally {
    mock.timers.reset();
  }
});
