import { Command, Option } from 'commander';
import type { Performer } from '../../relay/consume.js';
import type { RelayPublisher } from '../../relay/publisher.js';
import { contextOf, withAsyncTask } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { positiveInt, withExamples } from '../help.js';

type QueueKind = 'bullmq' | 'rabbitmq' | 'nats';
const QUEUES: readonly QueueKind[] = ['bullmq', 'rabbitmq', 'nats'];

const DEFAULT_BROKER: Record<QueueKind, string> = {
  bullmq: 'redis://127.0.0.1:6379',
  rabbitmq: 'amqp://guest:guest@127.0.0.1:5672',
  nats: 'nats://127.0.0.1:4222',
};
const PACKAGES: Record<QueueKind, string> = {
  bullmq: 'bullmq ioredis',
  rabbitmq: 'amqplib',
  nats: '@nats-io/jetstream @nats-io/transport-node',
};

interface Opened<T> {
  readonly value: T;
  close(): Promise<void>;
}

/** Imports a queue's client; a missing optional peer becomes a one-line error saying what to install. */
async function load<T>(kind: QueueKind, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new CliError(`--to ${kind} needs its client: npm install ${PACKAGES[kind]}`, EXIT.config, { cause: error });
    }
    throw error;
  }
}

/** A publisher to the queue at `broker`, on connections of its own. */
async function openPublisher(
  kind: QueueKind,
  broker: string,
  queue: string | undefined,
): Promise<Opened<RelayPublisher>> {
  if (kind === 'bullmq') {
    const [{ Queue }, { Redis }, { bullmqPublisher, DEFAULT_BULLMQ_QUEUE }] = await load(kind, () =>
      Promise.all([import('bullmq'), import('ioredis'), import('../../relay/bullmq.js')]),
    );
    const connection = new Redis(broker, { maxRetriesPerRequest: null });
    const bullQueue = new Queue(queue ?? DEFAULT_BULLMQ_QUEUE, { connection });
    return {
      value: bullmqPublisher({ queue: bullQueue }),
      async close() {
        await bullQueue.close();
        connection.disconnect();
      },
    };
  }
  if (kind === 'rabbitmq') {
    const [amqp, { rabbitmqPublisher }] = await load(kind, () =>
      Promise.all([import('amqplib'), import('../../relay/rabbitmq.js')]),
    );
    const connection = await amqp.connect(broker);
    const channel = await connection.createConfirmChannel();
    return {
      value: rabbitmqPublisher({ channel, ...(queue === undefined ? {} : { queue }) }),
      close: () => connection.close(),
    };
  }
  const [{ connect }, { jetstream, jetstreamManager }, { ensureNatsStream, natsPublisher }] = await load(kind, () =>
    Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream'), import('../../relay/nats.js')]),
  );
  const nc = await connect({ servers: new URL(broker).host });
  await ensureNatsStream(await jetstreamManager(nc), queue === undefined ? {} : { stream: queue });
  return {
    value: natsPublisher({ js: jetstream(nc) }),
    close: () => nc.drain(),
  };
}

/** A consumer of the queue at `broker` that performs through `asyncTask`. */
async function openConsumer(
  kind: QueueKind,
  asyncTask: Performer,
  broker: string,
  queue: string | undefined,
  concurrency: number,
): Promise<Opened<unknown>> {
  if (kind === 'bullmq') {
    const [{ Redis }, { bullmqConsumer }] = await load(kind, () =>
      Promise.all([import('ioredis'), import('../../relay/bullmq.js')]),
    );
    const connection = new Redis(broker, { maxRetriesPerRequest: null });
    const consumer = bullmqConsumer(asyncTask, {
      connection,
      concurrency,
      ...(queue === undefined ? {} : { queueName: queue }),
    });
    await consumer.waitUntilReady();
    return {
      value: consumer,
      async close() {
        await consumer.close();
        connection.disconnect();
      },
    };
  }
  if (kind === 'rabbitmq') {
    const [amqp, { rabbitmqConsumer }] = await load(kind, () =>
      Promise.all([import('amqplib'), import('../../relay/rabbitmq.js')]),
    );
    const connection = await amqp.connect(broker);
    const consumer = await rabbitmqConsumer(asyncTask, {
      channel: await connection.createChannel(),
      prefetch: concurrency,
      ...(queue === undefined ? {} : { queue }),
    });
    return {
      value: consumer,
      async close() {
        await consumer.close();
        await connection.close();
      },
    };
  }
  const [{ connect }, { jetstream, jetstreamManager }, { natsConsumer }] = await load(kind, () =>
    Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream'), import('../../relay/nats.js')]),
  );
  const nc = await connect({ servers: new URL(broker).host });
  const consumer = await natsConsumer(asyncTask, {
    js: jetstream(nc),
    jsm: await jetstreamManager(nc),
    concurrency,
    ...(queue === undefined ? {} : { stream: queue }),
  });
  return {
    value: consumer,
    async close() {
      await consumer.close();
      await nc.drain();
    },
  };
}

/** Resolves on the first SIGTERM or SIGINT; a second one exits at once. */
function untilSignal(note: (line: string) => void): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const handler = (signal: NodeJS.Signals) => {
      if (received) {
        note('Second signal: exiting at once.');
        process.exit(130);
      }
      received = true;
      resolve(signal);
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}

const queueOption = (verb: string) =>
  new Option(`--${verb} <queue>`, 'the queue: bullmq (Redis), rabbitmq or nats (JetStream)')
    .choices(QUEUES)
    .makeOptionMandatory();
const brokerOption = () =>
  new Option('--broker <url>', 'the broker (default: redis://, amqp://guest:guest@ or nats:// on 127.0.0.1)');
const nameOption = () =>
  new Option('--queue <name>', 'BullMQ queue, RabbitMQ queue or JetStream stream (default: async-task / ASYNC_TASK)');

interface RelayFlags {
  to: QueueKind;
  broker?: string;
  queue?: string;
  batchSize?: number;
  lease?: number;
  pollInterval?: number;
  notify: boolean;
}

export function relayCommand(): Command {
  const command = new Command('relay')
    .description('hand due attempts off to a queue (one message each) until SIGTERM or SIGINT; see docs/relay.md')
    .addOption(queueOption('to'))
    .addOption(brokerOption())
    .addOption(nameOption())
    .option('--batch-size <n>', 'attempts handed off per round (default 100)', positiveInt)
    .option('--lease <ms>', 'hand an attempt off again if still pending after this long (default 60000)', positiveInt)
    .option('--poll-interval <ms>', 'look for due attempts this often when idle (default 1000)', positiveInt)
    .option('--no-notify', 'poll only, no LISTEN/NOTIFY (behind a transaction-mode pooler)')
    .action(async (options: RelayFlags, self: Command) => {
      const context = contextOf(self, { infoLogs: true });
      await withAsyncTask(context, async ({ asyncTask, where }) => {
        const broker = options.broker ?? DEFAULT_BROKER[options.to];
        const publisher = await openPublisher(options.to, broker, options.queue);
        try {
          const relay = asyncTask.relay({
            to: publisher.value,
            ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
            ...(options.lease === undefined ? {} : { leaseMs: options.lease }),
            ...(options.pollInterval === undefined ? {} : { pollIntervalMs: options.pollInterval }),
            ...(options.notify === false ? { notify: false } : {}),
          });
          relay.on('publish', ({ count }) => context.logger.debug(`handed off ${count}`));
          const signal = untilSignal((line) => context.out.note(line));
          await relay.start();
          context.out.note(`Relay ${relay.id} handing off from ${where} to ${options.to}; Ctrl-C or SIGTERM stops it.`);
          const received = await signal;
          context.out.note(`${received}: stopping…`);
          await relay.stop();
          context.out.note('Relay stopped.');
        } finally {
          await publisher.close().catch(() => {});
        }
      });
    });
  return withExamples(command, [
    ['async-task relay --to bullmq', 'hand off to BullMQ on the local Redis'],
    ['async-task relay --to rabbitmq --broker amqp://user:pass@mq:5672', 'to RabbitMQ'],
    ['async-task relay --to nats --queue ORDERS', 'to a JetStream stream of your own'],
  ]);
}

interface ConsumeFlags {
  from: QueueKind;
  broker?: string;
  queue?: string;
  concurrency?: number;
}

export function consumeCommand(): Command {
  const command = new Command('consume')
    .description("perform what a relay hands off, from the queue, with the config's targets (see docs/relay.md)")
    .addOption(queueOption('from'))
    .addOption(brokerOption())
    .addOption(nameOption())
    .option('-c, --concurrency <n>', 'attempts performed at once (default 10)', positiveInt)
    .action(async (options: ConsumeFlags, self: Command) => {
      const context = contextOf(self, { infoLogs: true });
      const concurrency = options.concurrency ?? 10;
      await withAsyncTask(
        context,
        async ({ asyncTask, where }) => {
          const broker = options.broker ?? DEFAULT_BROKER[options.from];
          const signal = untilSignal((line) => context.out.note(line));
          const consumer = await openConsumer(options.from, asyncTask, broker, options.queue, concurrency);
          context.out.note(`Consuming from ${options.from}, performing on ${where}; Ctrl-C or SIGTERM stops it.`);
          const received = await signal;
          context.out.note(`${received}: letting running attempts finish…`);
          await consumer.close();
          context.out.note('Consumer stopped.');
        },
        { poolSize: Math.max(20, concurrency + 5) },
      );
    });
  return withExamples(command, [
    ['async-task consume --from bullmq --concurrency 20', 'perform from BullMQ on the local Redis'],
    ['async-task consume --from nats --broker nats://nats:4222', 'from JetStream'],
  ]);
}
