import type { CalibrationState } from './calibration';
import type { RobustScaler } from './windowSpec';

/** Key under which Vigil's state rides in model.json's userDefinedMetadata, so scaler and calibration stay with the weights. */
export const MODEL_METADATA_KEY = 'vigil';

export interface ModelMetadata {
  readonly kind: 'base' | 'service';
  readonly serviceKey?: string;
  readonly signals: string[];
  readonly windowSize: number;
  readonly scaler?: RobustScaler;
  /** Raw values per signal while the scaler is still warming up; absent once it is frozen. */
  readonly scalerSamples?: number[][];
  readonly calibration: CalibrationState;
  /** Windows this model has been fine-tuned on for its service (0 for the base model). */
  readonly fineTunedWindows: number;
}
