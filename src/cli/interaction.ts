import { CliError, EXIT, usageError } from './errors.js';

/** Prompts need a person: stdin and stderr both terminals. */
export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

/** Asks yes/no on the terminal (default no). Without a terminal, `--yes` is required. */
export async function confirmOrCancel(message: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!canPrompt()) throw usageError(`${message} Pass --yes to confirm when no terminal is attached.`);
  const { confirm, isCancel } = await import('@clack/prompts');
  const answer = await confirm({ message, initialValue: false, output: process.stderr });
  if (isCancel(answer) || answer !== true) throw new CliError('Cancelled; nothing changed.', EXIT.cancelled);
}

/** Picks one of `choices`, asking when a terminal is attached, else taking `fallback`. */
export async function chooseOne<T extends string>(
  message: string,
  choices: readonly { value: T; label: string; hint?: string }[],
  fallback: T,
): Promise<T> {
  if (!canPrompt()) return fallback;
  const { select, isCancel } = await import('@clack/prompts');
  const answer = await select<T>({
    message,
    options: choices.map((choice) => ({ ...choice })) as never,
    initialValue: fallback,
    output: process.stderr,
  });
  if (isCancel(answer)) throw new CliError('Cancelled; nothing written.', EXIT.cancelled);
  return answer as T;
}

export interface Progress {
  tick(): void;
  stop(): void;
}

/** A progress bar on stderr when it is a terminal; silent otherwise (and with --json). */
export async function startProgress(total: number, label: string, enabled: boolean): Promise<Progress> {
  if (!enabled || !process.stderr.isTTY || total < 2) return { tick() {}, stop() {} };
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} {percentage}% eta {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { tick: () => bar.increment(), stop: () => bar.stop() };
}
