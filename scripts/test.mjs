#!/usr/bin/env node
// `npm test`: lint, type-check, then every test tier that exists. Prints one closing line
// "tests: N passed, N failed, N skipped" that CI reads.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { EXIT_CANNOT_RUN, ensureNeeds, shardFiles, testFiles, tiers } from './tiers.mjs';

const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const requireAll = process.env.VIGIL_REQUIRE_ALL_TIERS === '1';
const totals = { passed: 0, failed: 0, skipped: 0 };
const problems = [];
const reports = [];
/** Wall time of each step and tier, printed at the end. */
const times = [];
const started = Date.now();
const seconds = (ms) => `${Math.round(ms / 1000)} s`;

function step(name, cmd, cmdArgs) {
  console.log(`\n=== ${name}: ${cmd} ${cmdArgs.join(' ')}`);
  const t0 = Date.now();
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit', shell: false });
  times.push(`${name} ${seconds(Date.now() - t0)}`);
  if (r.status !== 0) problems.push(`${name} failed (exit ${r.status})`);
  return r.status === 0;
}

/**
 * Runs mocha, echoing its output, and reads its passing/failing/pending counts. With a `prefix` (a shard
 * running beside another), every echoed line starts with it so the two outputs can be told apart.
 */
function mocha(files, env = {}, prefix = '') {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['node_modules/mocha/bin/mocha.js', '--config', '.mocharc.json', ...files], {
      stdio: ['ignore', 'pipe', prefix ? 'pipe' : 'inherit'],
      env: { ...process.env, ...env },
    });
    let text = '';
    const partial = { stdout: '', stderr: '' };
    const echo = (stream, d) => {
      if (!prefix) return process[stream].write(d);
      const lines = (partial[stream] + d.toString()).split('\n');
      partial[stream] = lines.pop() ?? '';
      for (const line of lines) process[stream].write(`${prefix}${line}\n`);
    };
    child.stdout.on('data', (d) => {
      echo('stdout', d);
      text += d.toString();
    });
    child.stderr?.on('data', (d) => echo('stderr', d));
    child.on('exit', () => {
      for (const stream of ['stdout', 'stderr']) if (partial[stream]) process[stream].write(`${prefix}${partial[stream]}\n`);
    });
    child.on('close', (code) => {
      const count = (word) => Number((new RegExp(`^\\s*(\\d+) ${word}`, 'm').exec(text) ?? [0, 0])[1]);
      // Mocha's failure report (titles, messages, stacks) starts at "N failing". Keep it so the
      // closing lines can repeat it: a long log's tail then still says what failed.
      const at = text.search(/^\s*\d+ failing/m);
      const report = at >= 0 ? text.slice(at).split('\n').slice(0, 80).join('\n') : '';
      resolve({ code: code ?? 1, passed: count('passing'), failed: count('failing'), pending: count('pending'), report });
    });
  });
}

if (!only) {
  step('lint', process.execPath, ['node_modules/eslint/bin/eslint.js', 'src', 'test', 'scripts']);
  step('typecheck', process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.']);
}
// Tests load the built bundles (activation, CLI, packaged extension), so build first — unless every
// selected tier runs from source.
const selected = tiers.filter((t) => !only || t.name === only);
if (process.env.VIGIL_SKIP_BUILD !== '1' && selected.some((t) => t.bundle !== false)) step('build', process.execPath, ['node_modules/webpack/bin/webpack.js', '--mode', 'production']);

for (const tier of tiers) {
  if (only && tier.name !== only) continue;
  const files = testFiles(tier.dir);
  if (files.length === 0) {
    console.log(`\n=== ${tier.name}: no tests yet`);
    continue;
  }
  console.log(`\n=== ${tier.name}: ${files.length} file(s)`);
  const t0 = Date.now();
  let reason = ensureNeeds(tier);
  if (!reason && tier.prepare && existsSync(tier.prepare)) {
    const r = spawnSync(process.execPath, [tier.prepare], { stdio: ['inherit', 'inherit', 'pipe'], encoding: 'utf8' });
    process.stderr.write(r.stderr ?? '');
    const said = (r.stderr ?? '').trim().split('\n').at(-1);
    if (r.status === EXIT_CANNOT_RUN) reason = said || `${tier.prepare} says the tier cannot run here (exit ${r.status})`;
    else if (r.status !== 0) reason = `${tier.prepare} could not prepare the tier (exit ${r.status})`;
  }
  if (reason) {
    console.log(`SKIPPED tier ${tier.name}: ${reason}`);
    totals.skipped += files.length;
    if (requireAll) problems.push(`tier ${tier.name} skipped under VIGIL_REQUIRE_ALL_TIERS=1: ${reason}`);
    times.push(`${tier.name} skipped`);
    continue;
  }
  // VIGIL_TEST_SHARDS=1 runs a sharded tier as one mocha process again (e.g. to time its files serially)
  const shards = Math.max(1, Number(process.env.VIGIL_TEST_SHARDS ?? tier.shards ?? 1) || 1);
  const groups = shards > 1 ? shardFiles(files, shards, tier.weights) : [{ files }];
  if (groups.length > 1) console.log(`=== ${tier.name}: ${groups.length} mocha processes at once: ${groups.map((g, i) => `${i + 1}/${groups.length} ${g.files.length} file(s), about ${g.seconds} s`).join('; ')}`);
  const runs = await Promise.all(groups.map((g, i) => mocha(g.files, { VIGIL_TEST_TIER: tier.name }, groups.length > 1 ? `[${tier.name} ${i + 1}/${groups.length}] ` : '')));
  const r = { passed: 0, failed: 0 };
  for (const [i, run] of runs.entries()) {
    const label = groups.length > 1 ? `${tier.name} ${i + 1}/${groups.length}` : tier.name;
    r.passed += run.passed;
    r.failed += run.failed;
    totals.passed += run.passed;
    totals.failed += run.failed;
    totals.skipped += run.pending;
    if (run.code !== 0) problems.push(`${label} tests failed (exit ${run.code})`);
    if (run.report) reports.push(`--- ${label}: what failed ---\n${run.report.trimEnd()}`);
  }
  times.push(`${tier.name} ${seconds(Date.now() - t0)} (${r.passed} passed, ${r.failed} failed${groups.length > 1 ? `, ${groups.length} processes` : ''})`);
}

console.log('');
for (const r of reports) console.log(`${r}\n`);
for (const p of problems) console.log(`FAILED: ${p}`);
console.log(`times: ${times.join('; ')}; total ${seconds(Date.now() - started)}`);
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(problems.length ? 1 : 0);
