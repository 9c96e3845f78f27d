// async-task in the leased mode, for the PostgreSQL peer harness (see bench/RESULTS.md).
import { asyncTaskAdapter } from './lib/async-task-adapter.mjs';

export default asyncTaskAdapter('leased');
