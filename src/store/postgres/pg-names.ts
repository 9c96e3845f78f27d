/** Names a migration may use; every one already validated and quoted. */
export interface PostgresNames {
  /** `"schema"."table"`: since migration 6, the view of every attempt (the hot table and the history). */
  readonly table: string;
  readonly schema: string;
  readonly rawTable: string;
  index(suffix: string): string;
}

/** The physical parts behind the attempts view (migration 6), each `"schema"."name"`. */
export interface PostgresTables {
  /** Pending attempts only: the worker's queue, with no index but the primary key and the claim's. */
  readonly hot: string;
  /** Completed attempts (succeeded, failed, expired), each entered once at its outcome; the dashboard's indexes. */
  readonly history: string;
  /** One row per idempotence token in use, pending or completed: what keeps a token unique across both. */
  readonly keys: string;
  /** The error of each failed run (migration 7): (attempt_id, run) → error, failed_at; the last 20 runs per attempt. */
  readonly errors: string;
  /** The one sequence both tables take ids from. */
  readonly ids: string;
}

export function postgresTables(names: PostgresNames): PostgresTables {
  const qualified = (suffix: string) => `${names.schema}.${names.index(suffix)}`;
  return {
    hot: qualified('hot'),
    history: qualified('history'),
    keys: qualified('keys'),
    errors: qualified('errors'),
    ids: qualified('ids'),
  };
}
