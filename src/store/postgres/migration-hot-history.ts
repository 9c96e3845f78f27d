import { type PostgresNames, postgresTables } from './pg-names.js';

/** Every column of an attempt, in the order of migration 1 (the hot table, the history and the view share it). */
const COLUMN_DEFINITIONS = `idempotence_token text,
        status text NOT NULL DEFAULT 'pending',
        target text NOT NULL,
        method_name text NOT NULL,
        method_args text NOT NULL,
        encryptor text NOT NULL,
        num_attempts integer NOT NULL DEFAULT 0,
        scheduled_at timestamptz,
        completed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_error text,
        lease_owner text,
        lease_expires_at timestamptz`;

/**
 * Migration 6: the one table of migrations 1–5 becomes a hot table of pending attempts and a history of completed
 * ones, behind a view of the old name that reads (and, through a trigger, writes) both as one set.
 *
 * Why: every row version of an attempt (insert, claim, outcome) entered every index of the one table, the dashboard's
 * included. Now an attempt is inserted into a table with two indexes, claimed by a HOT update (no indexed column
 * changes: the lease is filtered in the heap), and at its outcome moved once into the history, whose indexes it
 * enters once. The old table is renamed to the history and keeps its rows, ids and dashboard indexes; pending rows
 * move to the hot table; idempotence tokens move to a keys table (unique across both, written only with a token).
 */
export function hotAndHistorySql(names: PostgresNames): string {
  const { table, schema, index } = names;
  const { hot, history, keys, ids } = postgresTables(names);
  return `
      -- One sequence for both tables, continuing the identity's numbering: an id is never reused, and a completed
      -- attempt sent back to the queue keeps its id.
      CREATE SEQUENCE ${ids} AS bigint;
      SELECT setval('${ids}', GREATEST(
        COALESCE((SELECT max(id) FROM ${table}), 0),
        COALESCE(pg_sequence_last_value(pg_get_serial_sequence('${table}', 'id')::regclass), 0)) + 1, false);
      ALTER TABLE ${table} ALTER COLUMN id DROP IDENTITY;
      ALTER TABLE ${table} ALTER COLUMN id SET DEFAULT nextval('${ids}');
      ALTER TABLE ${table} RENAME TO ${index('history')};

      -- The hot table: pending attempts only. A claim writes only unindexed columns (count, lease), so it is a HOT
      -- update when the page has room for the new version: half of each page is kept free for them (a full-page
      -- image skips the free half, so this costs disk, not WAL). Vacuumed after a small number of dead rows.
      CREATE TABLE ${hot} (
        id bigint NOT NULL DEFAULT nextval('${ids}') CONSTRAINT ${index('hot_pkey')} PRIMARY KEY,
        ${COLUMN_DEFINITIONS},
        CONSTRAINT ${index('hot_status_check')} CHECK (status = 'pending')
      ) WITH (
        fillfactor = 50,
        autovacuum_vacuum_scale_factor = 0.02,
        autovacuum_vacuum_threshold = 500,
        autovacuum_vacuum_insert_scale_factor = 0.05,
        autovacuum_analyze_scale_factor = 0.02,
        autovacuum_vacuum_cost_delay = 0
      );
      ALTER SEQUENCE ${ids} OWNED BY ${hot}.id;
      INSERT INTO ${hot} SELECT * FROM ${history} WHERE status = 'pending';
      DELETE FROM ${history} WHERE status = 'pending';
      -- The claim's order: due time, then id. Lease columns stay out of it (a claim filters them in the heap).
      CREATE INDEX ${index('hot_due_idx')} ON ${hot} ((COALESCE(scheduled_at, created_at)), id);

      -- The history: completed attempts. Indexes that only ever held pending rows go.
      ALTER TABLE ${history} ADD CONSTRAINT ${index('history_status_check')} CHECK (status <> 'pending');
      DROP INDEX ${schema}.${index('claim_idx')};
      DROP INDEX ${schema}.${index('leased_idx')};
      DROP INDEX ${schema}.${index('idempotence_key')};

      -- A token in use, pending or completed, with the id of its attempt. Its primary key is what makes two
      -- enqueues with one token race safely: the second waits for the first's commit, then finds its attempt.
      CREATE TABLE ${keys} (
        target text NOT NULL,
        method_name text NOT NULL,
        idempotence_token text NOT NULL,
        id bigint NOT NULL,
        CONSTRAINT ${index('keys_pkey')} PRIMARY KEY (target, method_name, idempotence_token)
      );
      INSERT INTO ${keys} SELECT target, method_name, idempotence_token, id FROM ${hot} WHERE idempotence_token IS NOT NULL
        UNION ALL SELECT target, method_name, idempotence_token, id FROM ${history} WHERE idempotence_token IS NOT NULL;

      -- Every attempt, as one set: what find, list, the dashboard and the application's own SQL read. Each side's
      -- status check lets the planner skip the other side for a status filter.
      CREATE VIEW ${table} AS SELECT * FROM ${hot} UNION ALL SELECT * FROM ${history};
      ALTER VIEW ${table} ALTER COLUMN id SET DEFAULT nextval('${ids}');
      ALTER VIEW ${table} ALTER COLUMN status SET DEFAULT 'pending';
      ALTER VIEW ${table} ALTER COLUMN num_attempts SET DEFAULT 0;
      ALTER VIEW ${table} ALTER COLUMN created_at SET DEFAULT now();
      ALTER VIEW ${table} ALTER COLUMN updated_at SET DEFAULT now();

      -- A row written through the view (by hand, or an older tool) lands in the table its status names, keeping its
      -- id and token. The library itself writes the tables directly.
      CREATE FUNCTION ${schema}.${index('write')}() RETURNS trigger LANGUAGE plpgsql AS $write$
      BEGIN
        IF TG_OP <> 'INSERT' THEN
          DELETE FROM ${hot} WHERE id = OLD.id;
          DELETE FROM ${history} WHERE id = OLD.id;
          DELETE FROM ${keys} AS k WHERE k.target = OLD.target AND k.method_name = OLD.method_name
            AND k.idempotence_token = OLD.idempotence_token AND k.id = OLD.id;
          IF TG_OP = 'DELETE' THEN
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
      CREATE TRIGGER ${index('write')} INSTEAD OF INSERT OR UPDATE OR DELETE ON ${table}
        FOR EACH ROW EXECUTE FUNCTION ${schema}.${index('write')}();

      -- The SQL enqueue function of migration 5 returned the old table's row type (now the history's): re-created
      -- over the view's, writing the hot table and, with a token, the keys.
      DROP FUNCTION ${schema}.${index('enqueue')}(text, text, jsonb, text, timestamptz);
      ${enqueueFunctionSql(names)}
  `;
}

function enqueueFunctionSql(names: PostgresNames): string {
  const { table, schema, index } = names;
  const { hot, keys, ids } = postgresTables(names);
  return `CREATE FUNCTION ${schema}.${index('enqueue')}(
        target text,
        method text,
        args jsonb,
        idempotence_token text DEFAULT NULL,
        scheduled_at timestamptz DEFAULT NULL
      ) RETURNS ${table}
      LANGUAGE plpgsql
      AS $enqueue$
      #variable_conflict use_column
      DECLARE
        attempt ${table};
        new_id bigint;
      BEGIN
        IF $1 IS NULL OR btrim($1, E' \\t\\r\\n') = '' THEN
          RAISE EXCEPTION 'async-task: target must be a non-blank text' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF $2 IS NULL OR btrim($2, E' \\t\\r\\n') = '' THEN
          RAISE EXCEPTION 'async-task: method must be a non-blank text' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF $3 IS NULL THEN
          RAISE EXCEPTION 'async-task: args must not be SQL NULL (pass ''null''::jsonb)'
            USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF jsonb_path_exists($3, 'strict $.** ? (@.type() == "number" && (@ > 1.7976931348623157e308 || @ < -1.7976931348623157e308))') THEN
          RAISE EXCEPTION 'async-task: args hold a number beyond the range of a double'
            USING ERRCODE = 'numeric_value_out_of_range';
        END IF;
        IF $4 = '' THEN
          RAISE EXCEPTION 'async-task: idempotence_token must be NULL or a non-empty text'
            USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF $4 IS NOT NULL THEN
          -- A racing enqueue with the same token makes this wait for its outcome, then do nothing.
          INSERT INTO ${keys} (target, method_name, idempotence_token, id) VALUES ($1, $2, $4, nextval('${ids}'))
            ON CONFLICT DO NOTHING RETURNING id INTO new_id;
          IF NOT FOUND THEN
            -- A new statement: it sees the racing enqueue's commit.
            SELECT a.* INTO attempt FROM ${keys} AS k JOIN ${table} AS a ON a.id = k.id
              WHERE k.target = $1 AND k.method_name = $2 AND k.idempotence_token = $4;
            RETURN attempt;
          END IF;
        END IF;
        INSERT INTO ${hot} (id, target, method_name, method_args, encryptor, idempotence_token, scheduled_at)
          VALUES (COALESCE(new_id, nextval('${ids}')), $1, $2, $3::text, 'null', $4, $5)
          RETURNING * INTO attempt;
        RETURN attempt;
      END
      $enqueue$;
      COMMENT ON FUNCTION ${schema}.${index('enqueue')}(text, text, jsonb, text, timestamptz) IS
        'async-task: creates an attempt in the current transaction (arguments stored unencrypted). Returns the attempt, or the existing one for a used idempotence token.';`;
}
