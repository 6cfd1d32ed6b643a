/** Every id the extension contributes, in one place (they must match package.json). */
export const COMMAND = {
  connectCluster: 'vigil.connectCluster',
  setPrometheusUrl: 'vigil.setPrometheusUrl',
  replayIncident: 'vigil.replayIncident',
  pauseAutomation: 'vigil.pauseAutomation',
  resumeAutomation: 'vigil.resumeAutomation',
  startSandbox: 'vigil.startSandbox',
  runChaosExperiment: 'vigil.runChaosExperiment',
  showAuditLog: 'vigil.showAuditLog',
  verifyAuditLog: 'vigil.verifyAuditLog',
  retrainModel: 'vigil.retrainModel',
  approveRemediation: 'vigil.approveRemediation',
  rejectRemediation: 'vigil.rejectRemediation',
  markFalseAlarm: 'vigil.markFalseAlarm',
  markReal: 'vigil.markReal',
  exportIncident: 'vigil.exportIncident',
  openAuditEntries: 'vigil.openAuditEntries',
  disconnect: 'vigil.disconnect',
  debugStats: 'vigil.debugStats',
  openIncident: 'vigil.openIncident',
  showReliabilityReport: 'vigil.showReliabilityReport',
} as const;

export type CommandId = (typeof COMMAND)[keyof typeof COMMAND];

export const VIEW = {
  container: 'vigil',
  copilot: 'vigil.copilot',
  incidents: 'vigil.incidents',
} as const;

/** Settings the commands write; every key and its reading is in core/settingsSchema.ts and settingsReader.ts. */
export const SETTING = {
  section: 'vigil',
  kubernetesContext: 'kubernetes.context',
  kubernetesKubeconfig: 'kubernetes.kubeconfig',
  prometheusUrl: 'prometheus.url',
} as const;

export const SECRET = { prometheusToken: 'vigil.prometheus.token' } as const;
