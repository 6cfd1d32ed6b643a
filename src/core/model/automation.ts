/** What Vigil may do on its own. */
export type AutomationMode = 'off' | 'suggest' | 'auto';

export interface SafetySettings {
  readonly dryRun: boolean;
  readonly approvalRequiredForRisk: 'low' | 'medium' | 'high' | 'never';
  readonly allowedNamespaces: ReadonlyArray<string>;
  readonly deniedNamespaces: ReadonlyArray<string>;
  /** `DAY HH:MM-HH:MM` in UTC; DAY is Mon..Sun or *. */
  readonly maintenanceWindows: ReadonlyArray<string>;
  readonly maxActionsPerTargetPerHour: number;
  readonly maxActionsPerHour: number;
  readonly cooldownSeconds: number;
  readonly maxBlastRadiusPercent: number;
  readonly circuitBreakerFailures: number;
  readonly suppressDuringRollout: boolean;
  readonly leaseName: string;
}

export const DEFAULT_SAFETY: SafetySettings = {
  dryRun: false,
  approvalRequiredForRisk: 'high',
  allowedNamespaces: [],
  deniedNamespaces: ['kube-system'],
  maintenanceWindows: [],
  maxActionsPerTargetPerHour: 3,
  maxActionsPerHour: 10,
  cooldownSeconds: 120,
  maxBlastRadiusPercent: 34,
  circuitBreakerFailures: 3,
  suppressDuringRollout: true,
  leaseName: 'vigil-copilot',
};
