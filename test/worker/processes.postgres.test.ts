import { describe } from 'vitest';
import { processCases } from './process-cases.js';
import { postgresSchema } from './support.js';

describe('worker processes on PostgreSQL', () => {
  processCases(() => postgresSchema());
});
