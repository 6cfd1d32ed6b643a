import assert from 'node:assert/strict';
import { PodAddresses } from '../../../../src/sandbox/node/podAddresses';

describe('PodAddresses (a node agent\'s pod IPs, as host-local IPAM gives them)', () => {
  it('does not give a just-freed address to the next pod: the next free one after the last given', () => {
    const a = new PodAddresses('10.0.1.');
    assert.deepEqual([a.allocate(), a.allocate(), a.allocate()], ['10.0.1.2', '10.0.1.3', '10.0.1.4']);
    a.release('10.0.1.3'); // a rollout deletes an old pod...
    assert.equal(a.allocate(), '10.0.1.5'); // ...and its replacement must not answer on the old pod's address
  });

  it('wraps at the end of the range and skips the addresses in use', () => {
    const a = new PodAddresses('10.0.1.', 2, 5);
    for (let k = 0; k < 4; k++) a.allocate();
    a.release('10.0.1.3');
    a.release('10.0.1.2');
    assert.equal(a.allocate(), '10.0.1.2');
    assert.equal(a.allocate(), '10.0.1.3');
    assert.throws(() => a.allocate(), /no free pod address in 10\.0\.1\.2-5/);
  });

  it('keeps a restarted agent\'s pods on the addresses they have, when free and in range', () => {
    const a = new PodAddresses('10.0.1.');
    assert.equal(a.allocate('10.0.1.40'), '10.0.1.40');
    assert.equal(a.allocate('10.0.1.40'), '10.0.1.2'); // taken already: a new one
    assert.equal(a.allocate('10.9.9.9'), '10.0.1.3'); // another node's range
    a.release('10.9.9.9'); // ignored
    assert.equal(a.allocate(), '10.0.1.4');
  });
});
