// async-task in its transactional mode, for the SQLite peer harness (see bench/RESULTS.md).
import { asyncTaskAdapter } from './lib/async-task-adapter.mjs';

export default asyncTaskAdapter('transactional');
