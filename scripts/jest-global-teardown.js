// Jest globalTeardown: stops exactly the daemons jest-global-setup.js started (by their
// PID files), also after failed tests, and removes their directory.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { STATE_KEY } from './jest-global-setup.js';
import { stopRedis } from './redis.mjs';
import { stopRgw } from './rgw.mjs';

export default async function globalTeardown() {
  const state = globalThis[STATE_KEY];
  if (!state || state.external || !state.dir) return;
  globalThis[STATE_KEY] = undefined;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.off(sig, state.onSignal);
  const stopped = [];
  const r = await stopRedis(path.join(state.dir, 'redis'));
  if (r) stopped.push({ name: 'redis-server', ...r });
  stopped.push(...(await stopRgw(state.dir)));
  const alive = stopped.filter((s) => !s.dead);
  if (alive.length) {
    // Keep the directory (logs, PID files) so the survivors can be found and stopped.
    throw new Error(
      `could not stop ${alive.map((s) => `${s.name} pid ${s.pid}`).join(', ')}; see ${state.dir}`,
    );
  }
  rmSync(state.dir, { recursive: true, force: true });
}
