/**
 * Each failed run of an attempt leaves its error in the store's errors table (`<table>_errors`), written with the
 * failure itself and only then: a run that succeeds writes nothing there. Bounded per attempt: a failure deletes
 * the errors of runs this many runs older than its own, so an attempt keeps the errors of at most its last
 * `RUN_ERRORS_KEPT` runs (each text already bounded by `errorText`).
 */
export const RUN_ERRORS_KEPT = 20;

/** One failed run as the errors table keeps it. */
export interface RunError {
  /** The run's number: `num_attempts` when it ran (1 for the first run). */
  readonly run: number;
  readonly error: string;
  readonly failedAt: Date;
}
