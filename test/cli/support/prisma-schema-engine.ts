// Prisma's schema engine (what `prisma db pull` and `prisma migrate diff` run), in-process. The CLI runs a
// native binary it downloads from Prisma's servers at first use; where that cannot be fetched, the same
// engine compiled to WebAssembly (the one the `prisma` package ships) runs here over @prisma/adapter-pg.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';

const require = createRequire(import.meta.url);

/** The part of the engine's API these tests use (see @prisma/schema-engine-wasm's typings). */
interface SchemaEngine {
  introspect(params: object): Promise<{ schema: { files: { path: string; content: string }[] } }>;
  diff(params: object): Promise<{ exitCode: number; stdout: string | null }>;
  free(): void;
}

/**
 * pg's one-byte `"char"` columns (catalog flags such as a constraint's type, which the engine reads) have no
 * mapping in @prisma/adapter-pg 7.10 (it throws), as Prisma's CLI never runs this engine build on PostgreSQL.
 * They are read as text and marked by name, then reported to the engine as its Character type.
 */
const CHAR_OID = 18;
const TEXT_OID = 25;
const CHAR_MARK = '\u0000char';
const CHARACTER_COLUMN_TYPE = 6; // ColumnTypeEnum.Character of @prisma/driver-adapter-utils

function markCharColumns<T>(result: T): T {
  for (const field of (result as { fields?: { dataTypeID: number; name: string }[] } | undefined)?.fields ?? []) {
    if (field.dataTypeID !== CHAR_OID) continue;
    field.dataTypeID = TEXT_OID;
    field.name += CHAR_MARK;
  }
  return result;
}

class CatalogClient extends pg.Client {
  override query(...args: any[]): any {
    const callback = args.findIndex((arg) => typeof arg === 'function');
    if (callback >= 0) {
      const done = args[callback];
      args[callback] = (error: unknown, result: unknown) => done(error, markCharColumns(result));
      return (super.query as any)(...args);
    }
    const result = (super.query as any)(...args);
    return typeof result?.then === 'function' ? result.then(markCharColumns) : result;
  }
}

interface ResultSet {
  columnNames: string[];
  columnTypes: number[];
}
interface Queryable {
  queryRaw(query: unknown): Promise<ResultSet>;
}

/** Makes `target.queryRaw` report the marked columns as Character, and the same for its transactions. */
function charColumnsAsCharacter<T extends Queryable & { startTransaction?: (...args: any[]) => Promise<any> }>(
  target: T,
): T {
  const queryRaw = target.queryRaw.bind(target);
  target.queryRaw = async (query) => {
    const result = await queryRaw(query);
    result.columnNames.forEach((name, i) => {
      if (!name.endsWith(CHAR_MARK)) return;
      result.columnNames[i] = name.slice(0, -CHAR_MARK.length);
      result.columnTypes[i] = CHARACTER_COLUMN_TYPE;
    });
    return result;
  };
  const startTransaction = target.startTransaction?.bind(target);
  if (startTransaction)
    target.startTransaction = async (...args) => charColumnsAsCharacter(await startTransaction(...args));
  return target;
}

/** WebAssembly, which Node has and the project's TypeScript libs (no DOM) do not declare. */
const { WebAssembly: wasm } = globalThis as unknown as {
  WebAssembly: {
    instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: Record<string, unknown> } }>;
  };
};

/** Where the engine reports a Rust panic's message (Prisma's CLI keeps the same global). */
class PanicRegistry {
  message = '';
  get() {
    return this.message;
  }
  set_message(message: string) {
    this.message = `RuntimeError: ${message}`;
  }
}

let loaded: Promise<any> | undefined;
/** One instance per process: the generated glue holds a single module's memory. */
const engineModule = () => {
  (globalThis as { PRISMA_WASM_PANIC_REGISTRY?: PanicRegistry }).PRISMA_WASM_PANIC_REGISTRY ??= new PanicRegistry();
  loaded ??= loadEngineModule();
  return loaded;
};

async function loadEngineModule(): Promise<any> {
  const gluePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const glue = await import(gluePath);
  // Prefer the engine build the installed `prisma` CLI bundles; else the package's own build.
  const builds = [
    path.join(import.meta.dirname, '../../../node_modules/prisma/build/schema_engine_bg.wasm'),
    path.join(path.dirname(gluePath), 'schema_engine_bg.wasm'),
  ].filter((file) => fs.existsSync(file));
  let lastError: unknown;
  for (const file of builds) {
    try {
      const { instance } = await wasm.instantiate(fs.readFileSync(file), { './schema_engine_bg.js': glue });
      glue.__wbg_set_wasm(instance.exports);
      (instance.exports as { __wbindgen_start?: () => void }).__wbindgen_start?.();
      return glue;
    } catch (error) {
      lastError = error;
    }
  }
  throw new Error('no usable Prisma schema engine build', { cause: lastError });
}

/** Prisma's schema engine on `url`, for the given schema.prisma text. */
export async function prismaSchemaEngine(url: string, schemaPrisma: string) {
  const module = await engineModule();
  const pool = new pg.Pool({ connectionString: url, Client: CatalogClient as typeof pg.Client });
  // pool.end() resolves before its sockets close; the database's DROP … WITH (FORCE) may then kill one.
  pool.on('error', () => {});
  const factory = new PrismaPg(pool as never);
  const adapter = bindMigrationAwareSqlAdapterFactory({
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => charColumnsAsCharacter(await factory.connect()),
    connectToShadowDb: async () => charColumnsAsCharacter(await factory.connectToShadowDb()),
  });
  const files = [{ path: 'schema.prisma', content: schemaPrisma }];
  const engine: SchemaEngine = await module.SchemaEngine.new(
    { datamodels: [['schema.prisma', schemaPrisma]] },
    () => {},
    adapter,
  );
  return {
    /** `prisma db pull`: the model Prisma writes for what it sees in the database. */
    async pull(): Promise<string> {
      const result = await engine.introspect({
        schema: { files },
        baseDirectoryPath: process.cwd(),
        force: false,
        compositeTypeDepth: -1,
        namespaces: null,
      });
      return result.schema.files.map((file) => file.content).join('\n');
    },
    /**
     * `prisma migrate diff --from-config-datasource --to-schema schema.prisma --script --exit-code`:
     * the SQL that would make the database match the model; exit code 2 when there is any.
     */
    async diffToModel(externalTables: readonly string[] = []): Promise<{ exitCode: number; script: string }> {
      const result = await engine.diff({
        from: { tag: 'schemaDatasource', files, configDir: process.cwd() },
        to: { tag: 'schemaDatamodel', files },
        script: true,
        exitCode: true,
        filters: { externalTables: [...externalTables], externalEnums: [] },
      });
      return { exitCode: result.exitCode, script: result.stdout ?? '' };
    },
    async close(): Promise<void> {
      engine.free();
      await pool.end();
    },
  };
}
