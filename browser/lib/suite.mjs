import { before, after } from 'node:test';
import { startServer } from './server.mjs';
import { launchBrowser } from './browser.mjs';

/**
 * Starts one server and one browser for the enclosing `describe` and stops both afterwards.
 * Call it inside `describe`; read `ctx.server` and `ctx.browser` inside tests.
 * @param {() => Promise<void>} [ready] optional extra set-up after both are up
 */
export function useServerAndBrowser(ready) {
  const ctx = { server: undefined, browser: undefined };
  before(async () => {
    ctx.server = await startServer();
    ctx.browser = await launchBrowser();
    if (ready) await ready(ctx);
  });
  after(async () => {
    await ctx.browser?.close();
    await ctx.server?.stop();
  });
  return ctx;
}
