import path from 'node:path';
import { rateWindowMs, type VigilSettings } from '../core/settings';
import type { RuntimeOptions } from './runtime';

/**
 * VigilSettings → the options the runtime takes today, for the agent and the extension alike. `settings`
 * rides along whole, for the runtime that reads it directly (then this mapping goes).
 */
export function runtimeOptionsFrom(
  settings: VigilSettings,
  rest: Pick<RuntimeOptions, 'logger'> & Partial<Pick<RuntimeOptions, 'identity' | 'notifiers' | 'env' | 'clock' | 'baseModelDir'>>,
): RuntimeOptions & { readonly settings: VigilSettings } {
  return {
    ...rest,
    kubeconfig: settings.kubernetes.kubeconfig || undefined,
    context: settings.kubernetes.context || undefined,
    prometheusUrl: settings.prometheus.url || undefined,
    mode: settings.automation.mode,
    stateDir: path.resolve(settings.agent.stateDir),
    intervalMs: settings.prometheus.scrapeIntervalSeconds * 1000,
    rateWindowMs: rateWindowMs(settings),
    namespaces: settings.kubernetes.namespaces.length ? settings.kubernetes.namespaces : undefined,
    playbooksDir: settings.agent.playbooksDir || undefined,
    safety: settings.safety,
    model: settings.model.enabled,
    retrainEveryMs: settings.model.retrainEveryHours * 3_600_000,
    leaseNamespace: settings.agent.leaseNamespace,
    settings,
  };
}
