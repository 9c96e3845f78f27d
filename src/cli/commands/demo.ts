import { Command } from 'commander';
import { contextOf } from '../context.js';
import { withExamples } from '../help.js';

export function demoCommand(): Command {
  const command = new Command('demo')
    .description('the point of the library in a few seconds, on a temp SQLite file (needs better-sqlite3)')
    .option('--fast', 'no pauses between the steps')
    .action(async (options: { fast?: boolean }, self: Command) => {
      const context = contextOf(self);
      const { runShopDemo } = await import('../demo/shop-demo.js');
      await runShopDemo({ paced: !options.fast, color: context.out.colors.isColorSupported, say: context.out.line });
    });
  return withExamples(command, [
    ['async-task demo', 'a rolled-back order leaves no attempt; a committed one is performed once'],
    ['async-task demo --fast', 'the same without pauses'],
  ]);
}
