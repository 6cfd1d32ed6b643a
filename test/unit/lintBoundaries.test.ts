import assert from 'node:assert/strict';
import { ESLint } from 'eslint';

/** The house boundary rules of ../shared/ARCHITECTURE.md, checked against the real ESLint config. */
describe('lint boundaries', function () {
  this.timeout(60_000);
  const eslint = new ESLint({ cwd: process.cwd() });

  async function restrictedImportErrors(code: string, filePath: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath });
    return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
  }

  for (const lib of ['vscode', 'axios', '@kubernetes/client-node', '@tensorflow/tfjs']) {
    it(`refuses '${lib}' in src/core`, async () => {
      const errors = await restrictedImportErrors(`import * as x from '${lib}';\nexport const y = x;\n`, 'src/core/detect/leak.ts');
      assert.equal(errors.length, 1, `expected one boundary error for ${lib}, got ${JSON.stringify(errors)}`);
      assert.match(errors[0], /core|vscode/);
    });
  }

  it('refuses an adapter import in src/core', async () => {
    const errors = await restrictedImportErrors(`import { x } from '../../infra/prometheus/client';\nexport const y = x;\n`, 'src/core/observe/leak.ts');
    assert.equal(errors.length, 1);
  });

  it("refuses 'vscode' outside src/vscode and src/extension.ts", async () => {
    for (const file of ['src/infra/store/leak.ts', 'src/cli/leak.ts', 'src/sandbox/leak.ts', 'src/webview/leak.ts']) {
      const errors = await restrictedImportErrors(`import * as vscode from 'vscode';\nexport const y = vscode;\n`, file);
      assert.equal(errors.length, 1, `${file} should not import vscode`);
    }
  });

  it("allows 'vscode' in src/vscode and src/extension.ts, and adapters in src/infra", async () => {
    assert.deepEqual(await restrictedImportErrors(`import * as vscode from 'vscode';\nexport const y = vscode;\n`, 'src/vscode/ok.ts'), []);
    assert.deepEqual(await restrictedImportErrors(`import * as vscode from 'vscode';\nexport const y = vscode;\n`, 'src/extension.ts'), []);
    assert.deepEqual(await restrictedImportErrors(`import axios from 'axios';\nexport const y = axios;\n`, 'src/infra/prometheus/ok.ts'), []);
  });
});
