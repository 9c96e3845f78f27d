// async-task in its leased mode, for the SQLite peer harness (see bench/RESULTS.md).
import { asyncTaskAdapter } from './lib/async-task-adapter.mjs';

export default asyncTaskAdapter('leased');
