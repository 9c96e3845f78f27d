import amqp from 'amqplib';
import { rabbitmqPublisher } from '../../src/relay/rabbitmq.js';
import { relayQueueSuite } from './queue-suite.js';

await relayQueueSuite({
  name: 'rabbitmq',
  urlVariable: 'ASYNC_TASK_TEST_RABBITMQ_URL',
  defaultUrl: 'amqp://guest:guest@127.0.0.1:5672',
  defaultPort: 5672,
  dropsDuplicates: false,
  async publisher(url, queueName) {
    const connection = await amqp.connect(url);
    const channel = await connection.createConfirmChannel();
    return {
      publisher: rabbitmqPublisher({ channel, queue: queueName }),
      waiting: async () => (await channel.checkQueue(queueName)).messageCount,
      async close() {
        await channel.deleteQueue(queueName);
        await connection.close();
      },
    };
  },
});
