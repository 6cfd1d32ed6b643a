import { awaitingIncident } from './fixtures';

/**
 * A stand-in for dist/coreWorker.js speaking its protocol: `start` answers with the mode it was started in (so a
 * restart shows which settings it got), then sends a log line, an incident awaiting approval and its approval request;
 * `stats` answers with its pid; `approve` refuses as the remediator does for an unknown incident; `applySettings`
 * answers with the new mode.
 */
export const FAKE_CORE_WORKER = `
const incident = ${JSON.stringify(awaitingIncident())};
let mode;
process.on('message', (req) => {
  const reply = (result, error) => process.send(error ? { kind: 'reply', id: req.id, error } : { kind: 'reply', id: req.id, result });
  if (req.method === 'start') {
    mode = req.args[0].settings.automation.mode;
    process.send({ kind: 'event', event: { kind: 'log', component: 'engine', level: 'info', message: 'started in ' + mode + ' mode' } });
    reply({ server: 'http://fake:' + process.pid, state: { mode, paused: false, sources: [] }, incidents: [] });
    process.send({ kind: 'event', event: { kind: 'incident', incident } });
    process.send({ kind: 'event', event: { kind: 'approvalNeeded', incident, stepId: 'rollback', summary: 'roll back shop/checkout' } });
    return;
  }
  if (req.method === 'stats') return reply({ pid: process.pid, rssBytes: process.memoryUsage().rss });
  if (req.method === 'approve') return reply(undefined, 'no incident "' + req.args[0] + '"');
  if (req.method === 'applySettings') { mode = req.args[0].automation.mode; return reply({ mode, paused: false, sources: [] }); }
  reply(undefined, 'unexpected ' + req.method);
});
process.on('disconnect', () => process.exit(0));
`;

export function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => (condition() ? resolve() : Date.now() > end ? reject(new Error(`not within ${ms} ms: ${what}`)) : setTimeout(tick, 20));
    tick();
  });
}
