// async-task in its default, transactional mode, for ../shared/bench/peers (see docs/worker.md).
import { asyncTaskAdapter } from './lib/async-task-adapter.mjs';

export default asyncTaskAdapter('transactional');
