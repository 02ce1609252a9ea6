/**
 * The Prompter over real streams (a PassThrough each way, as a pipe): one AbortSignal serves
 * every question of a session, so each answered question must take its abort listener away
 * again (else Node warns "MaxListenersExceededWarning" after ten, over the dialogue, and the
 * listeners pile up for ever).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getEventListeners } from 'node:events';
import { PassThrough } from 'node:stream';
import { EOF, Prompter } from '../../src/cli/prompt.js';

function pipePrompter() {
  const input = new PassThrough();
  const output = new PassThrough();
  output.resume();
  return { input, prompter: new Prompter({ input, output, terminal: false }) };
}

test('answered questions leave no abort listener on the shared signal, and no warning', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on('warning', onWarning);
  const { input, prompter } = pipePrompter();
  const lost = new AbortController();
  for (let i = 0; i < 25; i++) {
    const asked = prompter.ask(() => `Question ${i}: `, lost.signal);
    input.write(`answer ${i}\n`);
    assert.is(await asked, `answer ${i}`);
    assert.is(getEventListeners(lost.signal, 'abort').length, 0, `after question ${i}`);
  }
  // Ended input answers EOF, and leaves nothing behind either.
  const last = prompter.ask(() => 'Last: ', lost.signal);
  input.end();
  assert.is(await last, EOF);
  assert.is(getEventListeners(lost.signal, 'abort').length, 0);
  await new Promise((r) => setImmediate(r));
  process.off('warning', onWarning);
  assert.equal(warnings, []);
  prompter.close();
});

test('aborting still withdraws the question being asked', async () => {
  const { prompter } = pipePrompter();
  const lost = new AbortController();
  const asked = prompter.ask(() => 'Question: ', lost.signal);
  lost.abort(new Error('connection lost'));
  try {
    await asked;
    assert.unreachable('the question should have been withdrawn');
  } catch (err) {
    assert.is((err as Error).message, 'connection lost');
  }
  prompter.close();
});

test.run();
