/**
 * The extension host's memory floor in the e2e's code-server (issue 18): its rss with Vigil installed but not
 * activated, then with Vigil activated and nothing running (Debug Stats' split), so an e2e reading can be told
 * apart into what code-server's host holds on its own and what Vigil adds.
 *
 *   node test/e2e/prepare.mjs && flock /work/heavy.lock npx tsx scripts/bench/extensionHostFloor.ts
 */
import { clearNotifications, extensionHostRssMb, openVigilView, runCommand, startSession, waitFor, waitForNotification, waitForWebviewText } from '../../test/e2e/harness';

const SETTLE_MS = 45_000;
const SAMPLES = 4;

async function settledRss(read: () => number | undefined): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    await new Promise((r) => setTimeout(r, SETTLE_MS / SAMPLES));
    const mb = read();
    if (mb !== undefined) out.push(Math.round(mb * 10) / 10);
  }
  return out;
}

async function main(): Promise<void> {
  const session = await startSession('host-floor', 'dark');
  try {
    const { page, server } = session;
    await waitFor(() => extensionHostRssMb(server) !== undefined, 60_000, 'the extension host process');
    const idle = await settledRss(() => extensionHostRssMb(server));
    // Vigil writes its log channel on activation: none yet means the reading above is code-server's host alone
    const activatedBefore = server.logFiles(/^Vigil\.log$/).length > 0;
    console.log(`extension host, Vigil installed, ${activatedBefore ? 'ACTIVATED (reading not a floor)' : 'not activated'}: rss ${idle.join(', ')} MB over ${SETTLE_MS / 1000} s`);
    await openVigilView(page);
    await waitForWebviewText(page, /Not connected/);
    const active = await settledRss(() => extensionHostRssMb(server));
    console.log(`extension host, Vigil activated, sidebar open, not connected: rss ${active.join(', ')} MB over ${SETTLE_MS / 1000} s`);
    await clearNotifications(page);
    await runCommand(page, 'Vigil: Show Debug Stats');
    const stats = await waitForNotification(page, /Vigil stats: rss/);
    console.log(stats.replace(/^[\s\S]*?(Vigil stats:)/, '$1').split('\n')[0]);
    const floor = idle.at(-1) ?? NaN;
    console.log(`Vigil activated adds ${((active.at(-1) ?? NaN) - floor).toFixed(1)} MB over code-server's host (${floor} MB)`);
  } finally {
    await session.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
