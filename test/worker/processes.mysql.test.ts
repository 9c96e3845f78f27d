import { describe, it } from 'vitest';
import { mysqlSkipNote, mysqlUnreachable } from '../support/mysql-database.js';
import { processCases } from './process-cases.js';
import { mysqlDatabase } from './support.js';

if (mysqlUnreachable) {
  describe.skip(mysqlSkipNote('worker processes on MySQL'), () => {
    it('runs against a MySQL or MariaDB server', () => {});
  });
} else {
  describe('worker processes on MySQL', () => {
    processCases(() => mysqlDatabase());
  });
}
