// The setup most node tests share: node-red-node-test-helper's runtime and one real Mosquitto for a describe(),
// with the flows unloaded after each test.
import { after, afterEach, before } from 'node:test';
import { startMosquitto, type MosquittoOptions, type RunningMosquitto } from './mosquitto';
import { helper } from './node-red';

/** Call inside describe(); `mosq` is there once the suite's tests run. */
export function runtimeWithBroker(opts?: MosquittoOptions): { readonly mosq: RunningMosquitto } {
  let mosq: RunningMosquitto | undefined;
  before(async () => {
    await helper.startServer();
    mosq = await startMosquitto(opts);
  });
  after(async () => {
    await mosq?.stop();
    await helper.stopServer();
  });
  afterEach(() => helper.unload());
  return {
    get mosq(): RunningMosquitto {
      if (!mosq) throw new Error('Mosquitto is not running: use it inside a test, not while the suite is being defined');
      return mosq;
    },
  };
}
