// npm start: compile when needed, then run the service in this process (signals reach it directly).
// With no DATABASE_URL/REDIS_URL it runs the embedded mode; see README.
import { ensureBuilt } from './run-compiled.mjs';

ensureBuilt();
await import('../dist/src/main.js');
