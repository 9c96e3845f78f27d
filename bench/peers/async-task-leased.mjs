// async-task in the leased mode, for ../shared/bench/peers (see docs/worker.md).
import { asyncTaskAdapter } from './lib/async-task-adapter.mjs';

export default asyncTaskAdapter('leased');
