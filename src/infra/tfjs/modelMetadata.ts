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
  readonly calibration: CalibrationState;
  /** Windows this model has been fine-tuned on for its service (0 for the base model). */
  readonly fineTunedWindows: number;
}
