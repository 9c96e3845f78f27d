// `npm run demo`: the same story as `async-task demo` (src/cli/demo/shop-demo.ts), on a temp SQLite file.
import { runShopDemo } from '../src/cli/demo/shop-demo.js';

runShopDemo().catch((error) => {
  console.error(error);
  process.exit(1);
});
