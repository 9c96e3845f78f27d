import { type PostgresNames, postgresTables } from './pg-names.js';

/**
 * Migration 7: the error of each failed run, not only the last (`last_error`). A row per failed run, written in the
 * failure's own statement and never by a success; an attempt keeps those of its last 20 runs. Keyed by attempt and
 * run, with no foreign key: the attempt moves between the hot table and the history, so retention deletes its errors
 * explicitly, and so does a DELETE through the view (its trigger, re-created here).
 */
export function runErrorsSql(names: PostgresNames): string {
  const { schema, index } = names;
  const { hot, history, keys, errors } = postgresTables(names);
  return `
      CREATE TABLE ${errors} (
        attempt_id bigint NOT NULL,
        run integer NOT NULL,
        error text NOT NULL,
        failed_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ${index('errors_pkey')} PRIMARY KEY (attempt_id, run)
      );

      -- Migration 6's trigger of the view, and a deleted attempt's errors with it (an update through the view keeps them).
      CREATE OR REPLACE FUNCTION ${schema}.${index('write')}() RETURNS trigger LANGUAGE plpgsql AS $write$
      BEGIN
        IF TG_OP <> 'INSERT' THEN
          DELETE FROM ${hot} WHERE id = OLD.id;
          DELETE FROM ${history} WHERE id = OLD.id;
          DELETE FROM ${keys} AS k WHERE k.target = OLD.target AND k.method_name = OLD.method_name
            AND k.idempotence_token = OLD.idempotence_token AND k.id = OLD.id;
          IF TG_OP = 'DELETE' THEN
            DELETE FROM ${errors} WHERE attempt_id = OLD.id;
            RETURN OLD;
          END IF;
        END IF;
        IF NEW.idempotence_token IS NOT NULL THEN
          INSERT INTO ${keys} VALUES (NEW.target, NEW.method_name, NEW.idempotence_token, NEW.id);
        END IF;
        IF NEW.status = 'pending' THEN
          INSERT INTO ${hot} VALUES (NEW.*);
        ELSE
          INSERT INTO ${history} VALUES (NEW.*);
        END IF;
        RETURN NEW;
      END
      $write$;
  `;
}
