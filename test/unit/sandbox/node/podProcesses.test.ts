import assert from 'node:assert/strict';
import { imageMatches, parseRunImage } from '../../../../src/sandbox/node/podProcesses';

describe('node agent --run-image', () => {
  it('parses IMAGE=COMMAND, keeping any = in the command', () => {
    assert.deepEqual(parseRunImage('vigil/agent=node dist/cli.js agent --mode=auto'), { image: 'vigil/agent', command: 'node dist/cli.js agent --mode=auto' });
  });

  it('names the expected form when the image or the command is missing', () => {
    for (const bad of ['vigil/agent', '=node x', 'vigil/agent=', '']) assert.throws(() => parseRunImage(bad), /--run-image must be IMAGE=COMMAND, e\.g\. .* got "/);
  });

  it('matches an image with or without its tag, but not another repository or a registry port', () => {
    assert.ok(imageMatches('vigil/agent', 'vigil/agent:1.2.0'));
    assert.ok(imageMatches('vigil/agent:1.2.0', 'vigil/agent:1.2.0'));
    assert.ok(!imageMatches('vigil/agent:1.2.0', 'vigil/agent:1.3.0'));
    assert.ok(!imageMatches('vigil/agent', 'vigil/agent-sidecar:1'));
    assert.ok(!imageMatches('registry:5000/vigil', 'registry:5000/vigil/agent'));
    assert.ok(imageMatches('registry:5000/vigil/agent', 'registry:5000/vigil/agent:2'));
  });
});
