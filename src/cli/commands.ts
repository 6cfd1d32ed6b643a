/** The `vigil` subcommands: one line each for --help, and a lazy loader so `vigil --help` loads nothing heavy. */
export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  /** Resolves to the command's exit code. */
  readonly load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

export const COMMANDS: ReadonlyArray<CliCommand> = [
  {
    name: 'agent',
    summary: 'Run the headless self-healing loop against a cluster (JSON-lines log to stdout).',
    usage:
      'vigil agent [--config FILE] --state-dir DIR [--kubeconfig PATH] [--context C] [--prometheus URL] [--mode off|suggest|auto] [--interval-seconds 15] [--namespace NS ...] [--deny-namespace NS ...] [--allow-namespace NS ...] [--dry-run] [--playbooks DIR] [--log-level info] [--print-config]\n\nSettings: flag > VIGIL_* environment (VIGIL_MODE, VIGIL_STATE_DIR, ...) > --config FILE or VIGIL_CONFIG (YAML, see config/vigil.example.yaml) > default. --print-config prints every effective value and where it came from, then exits.',
    load: () => import('./agent'),
  },
  {
    name: 'sandbox',
    summary: 'Start the embedded Kubernetes-API-compatible sandbox cluster with live workloads and metrics.',
    usage: 'vigil sandbox [--port N] [--metrics-port N] [--seed S] [--day-seconds D] [--kubeconfig PATH]',
    load: () => import('./sandbox'),
  },
  {
    name: 'chaos',
    summary: 'Inject a fault into the sandbox: crash-loop, memory-leak, bad-release, latency-spike, node-failure, traffic-surge, bad-feature-flag, dependency-outage.',
    usage: 'vigil chaos <fault> --kubeconfig PATH --target <namespace>/<deployment|node> [--duration S]',
    load: () => import('./chaos'),
  },
  {
    name: 'detect',
    summary: 'Score a CSV of signals for anomalies, streaming, with no look-ahead.',
    usage: 'vigil detect --input FILE.csv [--output FILE.csv] [--train-rows N] [--keep-unordered]',
    load: () => import('./detect'),
  },
  {
    name: 'replay',
    summary: 'List recorded incidents, or replay one on a virtual clock (what-if against current thresholds).',
    usage: 'vigil replay --list [--state-dir DIR] | vigil replay <incident-id|file> [--state-dir DIR] [--with current|recorded] [--export FILE] [--json]',
    load: () => import('./replay'),
  },
  {
    name: 'approve',
    summary: 'Approve the remediation a suggest-mode agent proposed for an incident.',
    usage: 'vigil approve <incident-id> [--state-dir DIR] [--by NAME]',
    load: () => import('./approve'),
  },
  {
    name: 'reject',
    summary: 'Reject a proposed remediation; nothing is done and the label is kept for learning.',
    usage: 'vigil reject <incident-id> [--state-dir DIR] [--by NAME] [--note TEXT]',
    load: () => import('./reject'),
  },
  {
    name: 'feedback',
    summary: 'Label an incident for learning: false-alarm, real, or right-diagnosis-wrong-fix.',
    usage: 'vigil feedback <incident-id> --label false-alarm|real|right-diagnosis-wrong-fix [--note TEXT] [--by NAME] [--state-dir DIR]',
    load: () => import('./feedback'),
  },
  {
    name: 'audit',
    summary: 'Verify the hash-chained audit log and name the first bad line.',
    usage: 'vigil audit verify --state-dir DIR | vigil audit show --state-dir DIR [--tail N] [--json]',
    load: () => import('./audit'),
  },
  {
    name: 'demo',
    summary: 'Start the sandbox and the agent, inject faults, and print a live healing timeline.',
    usage: 'vigil demo [--seed S] [--state-dir DIR] [--warmup-seconds 45] [--interval-seconds 5] [--faults crash-loop,bad-release,memory-leak]',
    load: () => import('./demo'),
  },
  {
    name: 'train-model',
    summary: 'Train the base multi-signal TensorFlow.js model (seeded, reproducible) into models/.',
    usage: 'vigil train-model [--out DIR] [--seed S] [--epochs N] [--services N] [--days N]',
    load: () => import('./trainModel'),
  },
  {
    name: 'retrain-model',
    summary: "Retrain each service's model on the normal data the agent recorded; keeps the previous model if the new one is worse.",
    usage: 'vigil retrain-model --state-dir DIR [--service namespace/name ...] [--base-model DIR]',
    load: () => import('./retrainModel'),
  },
  {
    name: 'thresholds',
    summary: 'List learned threshold changes (old → new, the incidents behind them), or accept, reject or revert one.',
    usage: 'vigil thresholds [--state-dir DIR] [--json] | vigil thresholds accept|reject|revert <change-id> [--state-dir DIR] [--by NAME]',
    load: () => import('./thresholds'),
  },
];
