/**
 * uvu's `suite`, with hooks that cannot hide a failure.
 *
 * uvu runs a suite's `before` hooks and tests in a `try` whose `finally` runs the `after`
 * hooks and then `return`s, so:
 * - an error thrown by `before` is swallowed: the suite reports "(0 / N)" with no reason;
 * - an error thrown by `after` (say, closing what `before` never got to open) escapes the
 *   runner and stops the whole process ("Exiting early before testing is finished"), and
 *   the message printed is that second error, not the first.
 * Here a `before` error is printed with its stack before uvu swallows it, and an `after`
 * error is printed and marks the run failed without ending it. Suites that use hooks
 * import `suite` from here instead of from 'uvu'.
 */
import { suite as uvuSuite, type Callback, type Test } from 'uvu';

type Hook<T> = Callback<T>;

export function suite<T = Record<string, any>>(name: string, state?: T): Test<T> {
  const test = uvuSuite<T>(name, state);
  const before = test.before;
  const after = test.after;
  const wrappedBefore = (hook: Hook<T>) => before(reportSetUpFailure(name, hook));
  const wrappedAfter = (hook: Hook<T>) => after(reportTearDownFailure(name, hook));
  test.before = Object.assign(wrappedBefore, { each: before.each });
  test.after = Object.assign(wrappedAfter, { each: after.each });
  return test;
}

function reportSetUpFailure<T>(name: string, hook: Hook<T>): Hook<T> {
  return async (context) => {
    try {
      await hook(context);
    } catch (err) {
      console.error(`\n  ✘ set-up of "${name}" failed, its tests did not run:\n${indent(err)}`);
      process.exitCode = 1;
      throw err;
    }
  };
}

function reportTearDownFailure<T>(name: string, hook: Hook<T>): Hook<T> {
  return async (context) => {
    try {
      await hook(context);
    } catch (err) {
      console.error(`\n  ✘ tear-down of "${name}" failed:\n${indent(err)}`);
      process.exitCode = 1;
    }
  };
}

function indent(err: unknown): string {
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return text.replace(/^/gm, '    ');
}
