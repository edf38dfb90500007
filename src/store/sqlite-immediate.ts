import { CompiledQuery, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDialectConfig } from 'kysely';

/**
 * SQLite with every transaction begun IMMEDIATE: it takes the write lock at BEGIN, waiting out
 * the busy timeout while another process writes. A plain (deferred) BEGIN reads first and fails
 * at its first write with SQLITE_BUSY_SNAPSHOT, without waiting, whenever another process
 * committed in between: with several bot processes on one file that happened on most bursts.
 */
export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}
