// async-task in its leased mode, for ../shared/bench/sqlite-peers (see bench/RESULTS.md).
import { asyncTaskAdapter } from './lib/async-task-adapter.mjs';

export default asyncTaskAdapter('leased');
