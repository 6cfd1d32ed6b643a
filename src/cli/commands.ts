/** The `vigil` subcommands: one line each for --help, and a lazy loader so `vigil --help` loads nothing heavy. */
export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  /** More for `vigil <command> --help`: what happens, exit codes. */
  readonly details?: string;
  /** Resolves to the command's exit code. */
  readonly load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

const DECISION_HELP = [
  'The decision goes to the agent running on the state directory (its control socket, <state-dir>/agent.sock),',
  'which applies it at once and answers: exit 0 when applied, 1 when refused (the reason is printed, e.g.',
  '"incident X was recovered at T, nothing to approve"). Each decision has an id; the agent applies an id at most',
  'once, so `--decision-id ID` repeats a decision safely (a retry gets the first verdict). Every verdict is audited.',
].join('\n');

const NO_AGENT_FILES = 'With no agent running, the command takes the agent\'s lock (<state-dir>/agent.lock) and writes the state directory itself, by the same rules; the agent starts from it.';
const NO_AGENT_REFUSED = 'With no agent running, nothing is recorded and the command exits 1: only the agent that proposed a step can run or drop it; start `vigil agent` and decide again.';
const IN_CLUSTER_HELP = 'With --kubeconfig (and --context) the agent runs in the cluster: the decision is written to the Incident resource\'s spec.decision (incidents.vigil.dev, by its name or Vigil\'s incident id; --namespace when you may not list all namespaces) with your own credentials, for the step proposed now (--step ID refuses if another is proposed), and by = the user the API server knows you as (a SelfSubjectReview; the chart\'s admission policy refuses any other). Your user needs the ClusterRole vigil-approver in the incident\'s namespace.';

export const COMMANDS: ReadonlyArray<CliCommand> = [
  {
    name: 'agent',
    summary: 'Run the headless self-healing loop against a cluster (JSON-lines log to stdout).',
    usage:
      'vigil agent [--config FILE] --state-dir DIR [--kubeconfig PATH] [--context C] [--prometheus URL] [--mode off|suggest|auto] [--interval-seconds 15] [--namespace NS ...] [--deny-namespace NS ...] [--allow-namespace NS ...] [--dry-run] [--playbooks DIR] [--log-level info] [--print-config]\n\nSettings: flag > VIGIL_* environment (VIGIL_MODE, VIGIL_STATE_DIR, ...) > --config FILE or VIGIL_CONFIG (YAML, see config/vigil.example.yaml) > default. --print-config prints every effective value and where it came from, then exits.',
    details: 'The agent is the only writer of its state directory: it holds <state-dir>/agent.lock while it runs (a second agent on the same directory is refused, naming the first one\'s pid) and takes human decisions (`vigil approve`, `reject`, `snooze`, `feedback`, `thresholds accept|reject|revert`) on <state-dir>/agent.sock.',
    load: () => import('./agent'),
  },
  {
    name: 'sandbox',
    summary: 'Start a sandbox cluster: the embedded Kubernetes-API-compatible one (default), or the real control plane with the node agent as its nodes.',
    usage: 'vigil sandbox [--port N] [--metrics-port N] [--seed S] [--day-seconds D] [--kubeconfig PATH] [--application-metrics prometheus|opentelemetry|istio] [--no-deployment-label] [--no-depends-on] [--services N [--pods-per-service 5]]\n       vigil sandbox --control-plane kubernetes [--nodes 3] [--services N [--pods-per-service 5]] [--kubeconfig PATH]',
    details: '--control-plane kubernetes runs etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kube-state-metrics (built by `npm run k8s:build`, found in ~/.cache/vigil-k8s or VIGIL_K8S_BIN) in the network namespace vigil-k8s-test, reachable from this host over a veth pair (10.244.0.0/16); needs root. --no-depends-on leaves the vigil.dev/depends-on annotations off the shop, so who calls whom shows only in telemetry (with --application-metrics istio, the source workload of each request). Both print one JSON line {apiServer, metrics, kubeconfig, controlPlane, …} when ready.',
    load: () => import('./sandbox'),
  },
  {
    name: 'node-agent',
    summary: 'Play the kubelets of N nodes of a real control plane: the simulated workloads behind its pods, their status, logs, cAdvisor metrics and faults.',
    usage: 'vigil node-agent --kubeconfig PATH [--nodes 3] [--seed S] [--day-seconds D] [--fault-port N] [--run-image IMAGE=COMMAND …]',
    details: 'Registers node-1 … node-N (InternalIP 10.244.<i>.1, kubelet port 10250) and serves each bound pod on its own IP (10.244.<i>.2 …, port 8080); those addresses must be local where it runs, e.g. `ip route add local 10.244.0.0/16 dev lo` in the network namespace. Publishes its fault API in configmap kube-public/vigil-sandbox for `vigil chaos`. --run-image runs the pods of IMAGE as the real process COMMAND, with a ServiceAccount token, ca.crt and namespace in the directory VIGIL_SERVICEACCOUNT_ROOT names.',
    load: () => import('./nodeAgent'),
  },
  {
    name: 'chaos',
    summary: 'Inject a fault into the sandbox: crash-loop, memory-leak, bad-release, latency-spike, node-failure, traffic-surge, bad-feature-flag, dependency-outage, cpu-hog.',
    usage: 'vigil chaos <fault> --kubeconfig PATH --target <namespace>/<deployment|node> [--duration S]',
    load: () => import('./chaos'),
  },
  {
    name: 'detect',
    summary: 'Score a CSV of signals for anomalies, streaming, with no look-ahead.',
    usage: 'vigil detect --input FILE.csv [--output FILE.csv] [--train-rows N] [--keep-unordered]',
    details: [
      'Output: timestamp,anomaly_score,is_anomaly,alert[,contribution_<signal>...].',
      '  anomaly_score  in [0, 1]; 0.9 is the detector\'s threshold.',
      '  is_anomaly     1 while the row is in an anomalous state (like a firing alert: from the alert until the score has',
      '                 stayed below its stay level for a few rows, so it does not flicker).',
      '  alert          1 on the row where a new alert fires (the onset of the state).',
      '  contribution_* share of each signal in the score (files with two or more signal columns).',
      '--train-rows N: the first N rows are known-normal history, learned from and reported as 0. With two or more signal',
      'columns they train the multi-signal model (PCA T² and Q on the joint behaviour, threshold calibrated on the training',
      'rows for a 0.1 % false-alarm rate); it needs max(60, 10 per signal) rows, and with fewer the statistical stack',
      'scores alone (a note says so). A column empty in every training row is left out of the model; a column constant',
      'over them is judged on its own (a change of more than 30 % of its level departs). A one-column file, or no',
      '--train-rows, is scored by the statistical stack (the univariate NAB profile).',
      'Empty cells are gaps; NaN, Inf or text in a cell is an error naming the line. Exit 0 on success, 2 on bad input',
      '(including --train-rows not below the number of data rows).',
    ].join('\n'),
    load: () => import('./detect'),
  },
  {
    name: 'replay',
    summary: 'List recorded incidents, or replay one through the live core on a virtual clock (what-if with today\'s playbooks and settings, or unchanged).',
    usage: 'vigil replay --list [--state-dir DIR] | vigil replay <incident-id|file> [--state-dir DIR] [--with current|unchanged|recorded] [--config FILE] [--playbooks DIR] [--export FILE] [--json]',
    load: () => import('./replay'),
  },
  {
    name: 'approve',
    summary: 'Approve the remediation a suggest-mode agent proposed for an incident.',
    usage: 'vigil approve <incident-id> [--state-dir DIR] [--by NAME] [--decision-id ID] | vigil approve <incident> --kubeconfig FILE [--context C] [--namespace NS] [--step ID]',
    details: `${DECISION_HELP}\nThe step approved is the one proposed when you run the command: if the agent proposes another meanwhile, it refuses.\n${NO_AGENT_REFUSED}\n${IN_CLUSTER_HELP}`,
    load: () => import('./approve'),
  },
  {
    name: 'reject',
    summary: 'Reject a proposed remediation; nothing is done and the label is kept for learning.',
    usage: 'vigil reject <incident-id> [--state-dir DIR] [--by NAME] [--note TEXT] [--decision-id ID] | vigil reject <incident> --kubeconfig FILE [--context C] [--namespace NS] [--step ID]',
    details: `${DECISION_HELP}\n${NO_AGENT_REFUSED}\n${IN_CLUSTER_HELP}`,
    load: () => import('./reject'),
  },
  {
    name: 'snooze',
    summary: 'Hold a proposed remediation for a while; the agent proposes it again afterwards.',
    usage: 'vigil snooze <incident-id> [--minutes 30] [--state-dir DIR] [--by NAME] [--decision-id ID]',
    details: `${DECISION_HELP}\n${NO_AGENT_REFUSED}`,
    load: () => import('./snooze'),
  },
  {
    name: 'feedback',
    summary: 'Label an incident for learning: false-alarm, real, or right-diagnosis-wrong-fix.',
    usage: 'vigil feedback <incident-id> --label false-alarm|real|right-diagnosis-wrong-fix [--note TEXT] [--by NAME] [--state-dir DIR] [--decision-id ID]',
    details: `${DECISION_HELP}\nThe running agent learns from the label at once (threshold tuning, remediation ranking).\n${NO_AGENT_FILES}`,
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
    usage: 'vigil demo [--seed S] [--state-dir DIR] [--warmup-seconds 45] [--interval-seconds 5] [--faults crash-loop,bad-release,memory-leak] [--control-plane embedded|kubernetes]',
    load: () => import('./demo'),
  },
  {
    name: 'report',
    summary: 'The reliability report: MTTR and time to detect (median, p90), how incidents were resolved, false-alarm and change failure rates, actions by outcome, learned thresholds, per week, SLOs.',
    usage: 'vigil report [--since 30d] [--format md|html|json] [--state-dir DIR] [--out FILE] [--slos FILE|DIR]... [--prometheus URL] [--config FILE]',
    details: 'Reads the incident files, the release log and the learned thresholds of the state directory; needs no agent. MTTR runs from symptom onset to verified recovery, time to detect from symptom onset to detection. With SLOs configured as for the agent (--slos, VIGIL_SLOS or the settings file) each SLO gets its objective, the error budget left over the period and the burn rate, read from Prometheus (--prometheus), and the incidents that burned it. --format html writes one self-contained file (inline CSS, SVG charts, no script).',
    load: () => import('./report'),
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
    usage: 'vigil thresholds [--state-dir DIR] [--json] | vigil thresholds accept|reject|revert <change-id> [--state-dir DIR] [--by NAME] [--decision-id ID]',
    details: `Listing reads the files and needs no agent. accept, reject and revert are decisions:\n${DECISION_HELP}\n${NO_AGENT_FILES}`,
    load: () => import('./thresholds'),
  },
];
