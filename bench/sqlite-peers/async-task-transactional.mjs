// async-task in its transactional mode, for ../shared/bench/sqlite-peers (see bench/RESULTS.md).
import { asyncTaskAdapter } from './lib/async-task-adapter.mjs';

export default asyncTaskAdapter('transactional');
