import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { bullmqPublisher } from '../../src/relay/bullmq.js';
import { relayQueueSuite } from './queue-suite.js';

await relayQueueSuite({
  name: 'bullmq',
  urlVariable: 'ASYNC_TASK_TEST_REDIS_URL',
  defaultUrl: 'redis://127.0.0.1:6379',
  defaultPort: 6379,
  dropsDuplicates: true,
  async publisher(url, queueName) {
    const connection = new Redis(url, { maxRetriesPerRequest: null });
    const queue = new Queue(queueName, { connection });
    return {
      publisher: bullmqPublisher({ queue }),
      waiting: () => queue.getWaitingCount(),
      async close() {
        await queue.obliterate({ force: true });
        await queue.close();
        connection.disconnect();
      },
    };
  },
});
