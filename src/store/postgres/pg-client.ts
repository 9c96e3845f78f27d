/** The structural client types the PostgreSQL store needs from node-postgres (or an adapter shaped like it). */

/** The part of a node-postgres client (or anything shaped like it) the library uses. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
}

export interface PgPoolClientLike extends PgQueryable {
  release(destroy?: boolean | Error): void;
}

/** Attached to a client that is being discarded: whatever it still reports is already handled. */
export const ignoreError = (): void => {};

/**
 * node-postgres can report a connection's death on a client nobody listens to (one that `pool.query` has just
 * released with an error, while its socket closes), and an unheard 'error' event ends the process. Each new
 * client of the pool gets a listener, so such a client's death is only what it already was: its next query
 * fails. The pool's own 'error' event (for idle clients) is unchanged.
 */
export function hearDeadConnections(pool: PgPoolLike | PgTransactorLike): void {
  const events = pool as Partial<{ on(event: 'connect', listener: (client: Partial<ErrorEvents>) => void): unknown }>;
  if (!('connect' in pool) || typeof events.on !== 'function') return;
  events.on('connect', (client) => client.on?.('error', ignoreError));
}

/** node-postgres clients are event emitters; the library listens for a dead connection's 'error'. */
export interface ErrorEvents {
  on(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
}

/** The part of a `pg.Pool` the library uses. */
export interface PgPoolLike extends PgQueryable {
  connect(): Promise<PgPoolClientLike>;
}

/** A source that runs transactions itself (an ORM's, via an adapter) instead of lending out clients. */
export interface PgTransactorLike extends PgQueryable {
  transaction<T>(fn: (tx: PgQueryable) => Promise<T>): Promise<T>;
}
