import type { SignalName } from '../../core/model/signal';
import type { ModelPort, ModelScore, RetrainRecord } from '../../core/ports';
import type { TfjsModel, TfjsModelOptions } from './tfjsModel';
import { MODEL_SIGNALS, WINDOW_SIZE, type RawWindow } from './windowSpec';

/**
 * ModelPort that loads the TensorFlow.js model module only on its first call, so composing a runtime
 * (and activating the extension) never touches tfjs; it loads when detection first hands it a window.
 */
export class LazyTfjsModel implements ModelPort {
  readonly signals: ReadonlyArray<SignalName> = MODEL_SIGNALS;
  readonly windowSize = WINDOW_SIZE;
  private model: Promise<TfjsModel> | undefined;

  constructor(private readonly options: TfjsModelOptions) {}

  /** Whether tfjs has been asked for yet. */
  get loaded(): boolean {
    return this.model !== undefined;
  }

  async score(serviceKey: string, windows: ReadonlyArray<RawWindow>): Promise<ReadonlyArray<ModelScore>> {
    return (await this.get()).score(serviceKey, windows);
  }

  async fineTune(serviceKey: string, windows: ReadonlyArray<RawWindow>): Promise<{ readonly loss: number }> {
    return (await this.get()).fineTune(serviceKey, windows);
  }

  async save(serviceKey: string): Promise<void> {
    if (this.model) await (await this.model).save(serviceKey);
  }

  async load(serviceKey: string): Promise<boolean> {
    return (await this.get()).load(serviceKey);
  }

  async retrain(serviceKey: string, windows: ReadonlyArray<RawWindow>, options?: { readonly holdout?: number }): Promise<RetrainRecord> {
    return (await this.get()).retrain(serviceKey, windows, options);
  }

  /** The backend in use, once loaded ('not loaded' before). */
  async backend(): Promise<string> {
    return this.model ? (await this.model).backend() : 'not loaded';
  }

  async dispose(): Promise<void> {
    const model = this.model;
    this.model = undefined;
    if (model) await (await model).dispose();
  }

  private get(): Promise<TfjsModel> {
    this.model ??= import('./tfjsModel').then(({ TfjsModel }) => new TfjsModel(this.options));
    return this.model;
  }
}
