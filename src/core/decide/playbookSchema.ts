/** JSON schema of a playbook document (YAML). Kept beside the loader so errors and schema agree. */
import { ACTION_RISK } from '../model/action';
import { DIAGNOSIS_TITLES } from '../model/diagnosis';
import { SIGNAL_NAMES } from '../observe/signalCatalogue';

const signalNames = [...SIGNAL_NAMES];
const diagnosisKinds = Object.keys(DIAGNOSIS_TITLES);
const actionKinds = Object.keys(ACTION_RISK);

const condition = {
  type: 'object',
  additionalProperties: false,
  required: ['kind'],
  properties: {
    kind: { enum: ['signal-in-band', 'signal-below', 'signal-above', 'rollout-complete', 'probe-passing', 'no-new-restarts', 'workloads-rescheduled'] },
    signal: { enum: signalNames },
    value: { type: 'number' },
    probe: { type: 'string', minLength: 1 },
  },
  allOf: [
    { if: { properties: { kind: { enum: ['signal-in-band', 'signal-below', 'signal-above'] } } }, then: { required: ['signal'] } },
    { if: { properties: { kind: { enum: ['signal-below', 'signal-above'] } } }, then: { required: ['value'] } },
    { if: { properties: { kind: { const: 'probe-passing' } } }, then: { required: ['probe'] } },
  ],
};

export const PLAYBOOK_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'trigger', 'steps'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$', maxLength: 63 },
    description: { type: 'string' },
    mode: { enum: ['off', 'suggest', 'auto'] },
    trigger: {
      type: 'object',
      additionalProperties: false,
      required: ['diagnosis'],
      properties: {
        diagnosis: { enum: diagnosisKinds },
        namespaces: { type: 'array', items: { type: 'string', minLength: 1 } },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
    steps: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'action'],
        properties: {
          id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
          action: { enum: actionKinds },
          params: { type: 'object', additionalProperties: { type: ['string', 'number'] } },
          risk: { enum: ['low', 'medium', 'high'] },
          verify: {
            type: 'object',
            additionalProperties: false,
            required: ['conditions'],
            properties: {
              conditions: { type: 'array', items: condition },
              timeoutSeconds: { type: 'number', minimum: 1, maximum: 3600 },
              stableForSeconds: { type: 'number', minimum: 0, maximum: 3600 },
            },
          },
          onFailure: { enum: ['next', 'escalate'] },
        },
      },
    },
  },
} as const;
