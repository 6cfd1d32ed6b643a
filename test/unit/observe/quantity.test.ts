import assert from 'node:assert/strict';
import { parseKubeQuantity } from '../../../src/core/observe/quantity';

describe('parseKubeQuantity', () => {
  it('reads binary and decimal suffixes, millis and plain numbers', () => {
    assert.equal(parseKubeQuantity('256Mi'), 256 * 1024 ** 2);
    assert.equal(parseKubeQuantity('1Gi'), 1024 ** 3);
    assert.equal(parseKubeQuantity('1.5G'), 1.5e9);
    assert.equal(parseKubeQuantity('500m'), 0.5);
    assert.equal(parseKubeQuantity('2'), 2);
    assert.equal(parseKubeQuantity(3), 3);
  });

  it('is undefined for what is no quantity', () => {
    assert.equal(parseKubeQuantity(undefined), undefined);
    assert.equal(parseKubeQuantity(''), undefined);
    assert.equal(parseKubeQuantity('lots'), undefined);
    assert.equal(parseKubeQuantity('12Qi'), undefined);
  });
});
