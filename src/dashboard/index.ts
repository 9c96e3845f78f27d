export { createDashboard, type DashboardHandler } from './dashboard.js';
export { type ServeDashboardOptions, serveDashboard, toNodeListener } from './node.js';
export type { Access, BasicAuthOptions, DashboardOptions } from './options.js';
