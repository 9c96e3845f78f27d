// async-task in its default, transactional mode, for the PostgreSQL peer harness (see bench/RESULTS.md).
import { asyncTaskAdapter } from './lib/async-task-adapter.mjs';

export default asyncTaskAdapter('transactional');
