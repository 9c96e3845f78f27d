import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { ensureNatsStream, natsPublisher } from '../../src/relay/nats.js';
import { relayQueueSuite } from './queue-suite.js';

await relayQueueSuite({
  name: 'nats',
  urlVariable: 'ASYNC_TASK_TEST_NATS_URL',
  defaultUrl: 'nats://127.0.0.1:4222',
  defaultPort: 4222,
  dropsDuplicates: true,
  async publisher(url, queueName) {
    const nc = await connect({ servers: new URL(url).host });
    const jsm = await jetstreamManager(nc);
    // One stream per test, its subject the same name.
    await ensureNatsStream(jsm, { stream: queueName, subject: queueName });
    return {
      publisher: natsPublisher({ js: jetstream(nc), subject: queueName }),
      waiting: async () => (await jsm.streams.info(queueName)).state.messages,
      async close() {
        await jsm.streams.delete(queueName);
        await nc.close();
      },
    };
  },
});
