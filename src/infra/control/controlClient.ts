import net from 'node:net';
import type { DecisionVerdict, HumanDecision } from '../../core/model/decision';
import { AgentLock, describeHolder, LockHeldError } from './agentLock';
import { controlSocketPath, type ControlResponse } from './controlServer';
import { applyWithoutAgent } from './offlineDecisions';

export interface SubmitOptions {
  /** How long the agent may take to answer one decision (default 60 s: a label waits for a step running on its target). */
  readonly answerTimeoutMs?: number;
  /** How long to wait for the lock while another command writes, or the agent starts or stops (default 15 s). */
  readonly lockWaitMs?: number;
}

export interface Submitted {
  readonly verdict: DecisionVerdict;
  /** 'agent' when the running agent answered; 'files' when no agent ran and the state directory was written under its lock. */
  readonly via: 'agent' | 'files';
}

/**
 * Hands a decision to the agent running on `stateDir` and returns its verdict. When none runs, takes the agent's
 * lock and applies the decision to the files with the same rules; while the lock is held by a starting or
 * stopping agent, or by another command, it tries again.
 */
export async function submitDecision(stateDir: string, d: HumanDecision, options: SubmitOptions = {}): Promise<Submitted> {
  const deadline = Date.now() + (options.lockWaitMs ?? 15_000);
  for (let hangUps = 0; ; ) {
    let answer: DecisionVerdict | 'no-agent';
    try {
      answer = await sendDecision(stateDir, d, options.answerTimeoutMs ?? 60_000);
    } catch (err) {
      // an agent stopping mid-answer: ask again, the ledger knows whether it was applied
      if (!(err instanceof HungUpError) || ++hangUps > 2) throw err;
      continue;
    }
    if (answer !== 'no-agent') return { verdict: answer, via: 'agent' };
    let lock: AgentLock;
    try {
      lock = await AgentLock.acquire(stateDir, 'cli');
    } catch (err) {
      if (!(err instanceof LockHeldError)) throw err;
      if (Date.now() > deadline) {
        throw new Error(
          err.holder.role === 'agent'
            ? `${describeHolder(err.holder)} holds ${stateDir} but does not answer on ${controlSocketPath(stateDir)}; nothing was decided. Is it starting? Try again, or stop it if it hangs.`
            : `${describeHolder(err.holder)} has held ${err.file} for too long; nothing was decided. Try again.`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
      continue;
    }
    try {
      return { verdict: await applyWithoutAgent(stateDir, d), via: 'files' };
    } finally {
      await lock.release();
    }
  }
}

class HungUpError extends Error {}

/** One request on the control socket; 'no-agent' when nothing listens there. */
export function sendDecision(stateDir: string, d: HumanDecision, timeoutMs: number): Promise<DecisionVerdict | 'no-agent'> {
  const socketPath = controlSocketPath(stateDir);
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let buffer = '';
    let connected = false;
    let settled = false;
    const done = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    const timer = setTimeout(
      () => done(() => reject(new Error(`the agent on ${stateDir} did not answer decision ${d.id} within ${Math.round(timeoutMs / 1000)} s; it may still apply it — send it again with \`--decision-id ${d.id}\` to learn the verdict (it is applied at most once)`))),
      timeoutMs,
    );
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify({ decision: d })}\n`);
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      let response: ControlResponse;
      try {
        response = JSON.parse(buffer.slice(0, nl)) as ControlResponse;
      } catch {
        done(() => reject(new Error(`the agent on ${stateDir} answered something that is not JSON: ${buffer.slice(0, 200)}`)));
        return;
      }
      done(() => ('verdict' in response ? resolve(response.verdict) : reject(new Error(response.error))));
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // no socket file, or one left by an agent that is gone
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) done(() => resolve('no-agent'));
      else done(() => reject(new Error(`talking to the agent on ${socketPath} failed: ${err.message}; send it again with \`--decision-id ${d.id}\` (it is applied at most once)`)));
    });
    socket.on('close', () =>
      done(() => reject(new HungUpError(`the agent on ${stateDir} hung up before answering decision ${d.id} (stopping?); send it again with \`--decision-id ${d.id}\` to learn the verdict (it is applied at most once)`))),
    );
  });
}
